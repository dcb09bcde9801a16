"""`townhall ledger seal|verify|proof`: the tamper-evident case history.

- `seal` signs today's Merkle root of every case chain's head (the scheduler runs it daily);
- `verify` recomputes every chain, checks personal values against their commitments, and
  checks the histories against the latest signed seal (`--all-seals`: every seal;
  `--seals FILE`: a copy of /ledger/seals.json someone kept), exit status 1 on any break;
- `proof CASE_ID` prints a case's inclusion proof as JSON.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from townhall.cases.ledger_extensions import ledger_extensions
from townhall.cases.seals import SealRefused, seals_check, seals_compare, trusted_public_keys
from townhall.cases.selectors import ledger_proof, ledger_verify
from townhall.cases.services import ledger_seal
from townhall.core.security import SecurityEventKind, security_event


class Command(BaseCommand):
    help = "The tamper-evident case history. Sub-commands: seal, verify, proof."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("seal", help="Sign the Merkle root of every case chain's head now.")
        verify = sub.add_parser(
            "verify", help="Recompute every event chain and check it against the signed seals."
        )
        verify.add_argument(
            "--case",
            type=int,
            action="append",
            dest="case_ids",
            help="Only this case id's chain (repeatable; skips the seal check).",
        )
        verify.add_argument(
            "--all-seals", action="store_true", help="Check every seal, not only the latest."
        )
        verify.add_argument(
            "--seals",
            type=Path,
            dest="seals_file",
            help="A kept copy of /ledger/seals.json: each of its seals must still be here.",
        )
        verify.add_argument(
            "--public-key",
            action="append",
            dest="public_keys",
            help="A trusted public key of the seals (hex; repeatable, e.g. a key rotated "
            "out), besides the signing key file's.",
        )
        proof = sub.add_parser("proof", help="Print a case's inclusion proof in the latest seal.")
        proof.add_argument("case_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "seal":
            try:
                seal = ledger_seal()
            except SealRefused as exc:
                for b in exc.breaks:
                    self.stderr.write(f"BREAK case {b.case_id} event #{b.seq}: {b.reason}")
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                self.style.SUCCESS(
                    f"Sealed {seal.tree_size} case(s): seal {seal.pk}, root {seal.root}."
                )
            )
        elif action == "proof":
            found = ledger_proof(case_id=options["case_id"])
            if found is None:
                raise CommandError("That case is not in a seal yet.")
            self.stdout.write(json.dumps(found, indent=2))
        else:
            self._verify(options)

    def _verify(self, options: dict[str, Any]) -> None:
        case_ids = options.get("case_ids")
        checked, breaks = ledger_verify(case_ids=case_ids)
        seals_line = ""
        if case_ids is None:
            for extension in ledger_extensions():  # other apps' chains (notices)
                more, found = extension.verify()
                checked += more
                breaks += found
            keys, source = trusted_public_keys(options.get("public_keys"))
            if options.get("seals_file"):
                kept = json.loads(options["seals_file"].read_text())
                breaks += seals_compare(kept["seals"] if isinstance(kept, dict) else kept)
            if not keys:
                self.stderr.write("No public key to check seals with: chains checked only.")
            else:
                count, problems = seals_check(keys, every=options["all_seals"])
                breaks += problems
                if count:
                    seals_line = f", {count} seal(s) checked with the key(s) from {source}"
        for b in breaks:
            where = f"seal {b.seq}" if b.case_id == 0 else f"{b.chain} {b.case_id} event #{b.seq}"
            self.stderr.write(f"BREAK {where}: {b.reason}")
        if breaks:
            security_event(
                SecurityEventKind.OTHER,
                subject="ledger verify failed",
                detail={"breaks": len(breaks), "cases": len({b.case_id for b in breaks})},
            )
            raise CommandError(f"{len(breaks)} break(s) found in {checked} events{seals_line}.")
        self.stdout.write(
            self.style.SUCCESS(f"OK: {checked} events verified, no breaks{seals_line}.")
        )
