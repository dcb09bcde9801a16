"""Tamper evidence that holds against the database owner (issue 15).

Before: whoever could write to the database could rewrite a case's history, recompute
every hash, and `townhall ledger verify` still passed. Now the heads of every chain are
sealed daily under an Ed25519 key kept outside the database, and verify checks the
histories against the signed roots.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client

from tests.tamper import as_database_owner
from townhall.cases.ledger import (
    REMOVED,
    audit_path,
    audit_path_verify,
    event_hash,
    merkle_root,
)
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventPersonal, LedgerSeal
from townhall.cases.seals import SealRefused
from townhall.cases.selectors import ledger_verify
from townhall.cases.services import (
    case_acknowledge,
    case_note_add,
    case_open,
    case_transition,
    ledger_seal,
    personal_data_erase,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def signing_key(settings: Any, tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "ledger-seal.key"
    settings.TOWNHALL_LEDGER_KEY_FILE = str(path)
    return path


@pytest.fixture
def history(pothole: Any, caseworker: Any) -> Case:
    case = case_open(
        service_type=pothole, channel="sms", description="Hole", answers={"size": "small"}
    )
    case_acknowledge(case_id=case.pk)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker)
    case_note_add(
        case=case, text="Mrs Lopez at 12 Elm St says it is deep", actor=caseworker, public=True
    )
    return case


@pytest.fixture
def others(pothole: Any) -> list[Case]:
    return [
        case_open(service_type=pothole, channel="web", answers={"size": "small"}, description="x")
        for _ in range(4)
    ]


def _rewrite(case: Case, seq: int, data: dict[str, Any]) -> None:
    """What an owner does: replace an event's payload and recompute every hash after it."""
    with as_database_owner():
        prev = None
        for event in CaseEvent.objects.filter(case=case).order_by("seq"):
            if event.seq == seq:
                event.data = data
            if prev is not None:
                event.prev_hash = prev
            event.hash = event_hash(
                prev_hash=event.prev_hash,
                case_id=event.case_id,
                seq=event.seq,
                kind=event.kind,
                at=event.at,
                actor_id=event.actor_id,
                channel=event.channel,
                public=event.public,
                data=event.data,
            )
            CaseEvent.objects.filter(pk=event.pk).update(
                data=event.data, prev_hash=event.prev_hash, hash=event.hash
            )
            prev = event.hash


def test_a_rewritten_and_rehashed_history_fails_against_the_seal(
    history: Case, others: list[Case], capsys: Any
) -> None:
    ledger_seal()
    call_command("ledger", "verify")  # sealed and untouched: green
    # an owner rewrites the opening and recomputes every hash: each chain still checks out
    opened = CaseEvent.objects.get(case=history, seq=1)
    _rewrite(history, 1, {**opened.data, "priority": "low", "service": "graffiti"})
    assert ledger_verify() == (8, [])
    # but not against the signed root
    with pytest.raises(CommandError, match="break"):
        call_command("ledger", "verify")
    err = capsys.readouterr().err
    assert "history rewritten since seal" in err
    assert str(history.pk) in err
    from townhall.core.models import SecurityEvent

    assert SecurityEvent.objects.filter(subject="ledger verify failed").exists()


def test_a_truncated_history_is_detected(history: Case, others: list[Case], capsys: Any) -> None:
    ledger_seal()
    # dropping the last events leaves a chain that is consistent on its own
    with as_database_owner():
        CaseEvent.objects.filter(case=history, seq__gte=3).delete()
    assert ledger_verify() == (6, [])
    with pytest.raises(CommandError):
        call_command("ledger", "verify")
    assert f"case {history.pk} event #4: truncated" in capsys.readouterr().err


def test_sealing_refuses_to_seal_over_a_rewritten_history(history: Case) -> None:
    first = ledger_seal()
    _rewrite(history, 2, {"expected_on": "2030-01-01"})
    with pytest.raises(SealRefused, match=f"seal {first.pk}"):
        ledger_seal()
    assert LedgerSeal.objects.count() == 1
    from townhall.core.models import SecurityEvent

    assert SecurityEvent.objects.filter(subject="ledger seal refused").count() == 1
    with as_database_owner():
        CaseEvent.objects.filter(case=history, seq=4).delete()
    with pytest.raises(SealRefused) as refused:
        ledger_seal()
    assert any("truncated" in b.reason for b in refused.value.breaks)


def test_new_events_after_a_seal_verify_and_the_next_seal_chains(
    history: Case, caseworker: Any, capsys: Any
) -> None:
    first = ledger_seal()
    case_note_add(case=history, text="Fixed on Tuesday", actor=caseworker)
    call_command("ledger", "verify")
    second = ledger_seal()
    assert second.prev_hash == first.hash
    call_command("ledger", "verify", "--all-seals")
    assert "2 seal(s) checked" in capsys.readouterr().out


def test_a_forged_seal_row_does_not_verify(history: Case, capsys: Any) -> None:
    seal = ledger_seal()
    _rewrite(history, 1, {"service": "graffiti"})
    # the owner rebuilds the seal's root from the rewritten histories but cannot sign it
    LedgerSeal.objects.filter(pk=seal.pk).update(root="ab" * 32)
    with pytest.raises(CommandError):
        call_command("ledger", "verify")
    assert "seal signature does not verify" in capsys.readouterr().err


def test_a_deleted_seal_is_caught_by_a_kept_copy(history: Case, tmp_path: Path) -> None:
    ledger_seal()
    kept = tmp_path / "seals.json"
    kept.write_bytes(Client().get("/ledger/seals.json").content)
    call_command("ledger", "verify", "--seals", str(kept))
    LedgerSeal.objects.all().delete()
    with pytest.raises(CommandError):
        call_command("ledger", "verify", "--seals", str(kept))


# --- append-only on PostgreSQL ----------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete_of_case_events(history: Case) -> None:
    for attempt in (
        lambda: CaseEvent.objects.filter(case=history, seq=4).update(data={"text": "nothing"}),
        lambda: CaseEvent.objects.filter(case=history, seq=4).delete(),
        lambda: Case.objects.filter(pk=history.pk).delete(),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            attempt()
    assert history.events.count() == 4


def test_the_append_only_trigger_is_installed_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'cases_caseevent'::regclass "
            "AND NOT tgisinternal"
        )
        assert [row[0] for row in cursor.fetchall()] == ["cases_caseevent_append_only"]


# --- personal data out of the hashed payloads --------------------------------------------------


def test_personal_text_is_committed_not_hashed(history: Case) -> None:
    from townhall.console.templatetags.console import event_text

    note = history.events.get(seq=4)
    assert event_text(note) == "Public update: Mrs Lopez at 12 Elm St says it is deep"
    assert "Lopez" not in json.dumps(note.data)
    kept = CaseEventPersonal.objects.get(event=note)
    assert kept.field == "text"
    assert (
        note.data["commit"]["text"]
        == hashlib.sha256(bytes.fromhex(kept.salt) + kept.value.encode()).hexdigest()
    )
    assert note.content["text"] == "Mrs Lopez at 12 Elm St says it is deep"


def test_erasure_keeps_every_chain_and_seal_green(
    history: Case, caseworker: Any, capsys: Any
) -> None:
    case_transition(
        case=history, to=CaseStatus.RESOLVED, actor=caseworker, note="Told Mrs Lopez by phone"
    )
    ledger_seal()
    assert personal_data_erase([history.pk]) == 2
    assert not CaseEventPersonal.objects.filter(case=history).exists()
    call_command("ledger", "verify", "--all-seals")
    assert "no breaks" in capsys.readouterr().out
    ledger_seal()  # and the next seal goes on
    # readers say the value was removed
    note = history.events.get(seq=4)
    assert note.content["text"] == REMOVED
    page = Client().get("/track/", {"reference": history.reference})
    assert REMOVED in page.content.decode() and "Lopez" not in page.content.decode()
    from townhall.console.templatetags.console import event_text

    assert event_text(note) == f"Public update: {REMOVED}"
    resolved = history.events.get(seq=5)
    assert event_text(resolved).endswith(f". {REMOVED}")


def test_an_edited_personal_value_is_reported(history: Case) -> None:
    CaseEventPersonal.objects.filter(case=history).update(value="Nobody said anything")
    _, breaks = ledger_verify()
    assert [(b.case_id, b.seq) for b in breaks] == [(history.pk, 4)]


# --- inclusion proofs, checked from outside the code ------------------------------------------


def _independent_root(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2, with hashlib only."""
    fn, sn = index, size - 1
    r = hashlib.sha256(b"\x00" + leaf).digest()
    for p in path:
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return r


def test_a_case_inclusion_proof_verifies_independently(history: Case, others: list[Case]) -> None:
    ledger_seal()
    client = Client()
    proof = client.get(f"/ledger/proofs/{history.reference}.json").json()
    seal = client.get(f"/ledger/seals/{proof['seal']['id']}.json").json()
    published = client.get("/ledger/seals.json").json()
    # the leaf is the case id, its head and its count
    head = CaseEvent.objects.get(case=history, seq=4).hash
    leaf = struct.pack(">Q", history.pk) + bytes.fromhex(head) + struct.pack(">I", 4)
    assert proof["leaf"] == leaf.hex()
    root = _independent_root(
        leaf,
        proof["leaf_index"],
        proof["tree_size"],
        [bytes.fromhex(p) for p in proof["audit_path"]],
    )
    assert root.hex() == seal["root"] == published["seals"][0]["root"]
    # the root is what the key signed
    message = seal["signed_message"].encode()
    assert json.loads(message)["root"] == root.hex()
    assert hashlib.sha256(message).hexdigest() == seal["hash"]
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(published["keys"][0]["public_key"]))
    public.verify(bytes.fromhex(seal["signature"]), message)  # raises if forged
    # and the public page shows it
    page = Client().get("/track/", {"reference": history.reference}).content.decode()
    assert proof["leaf"] in page and proof["audit_path"][0] in page
    assert Client().get("/ledger/").status_code == 200


def test_no_proof_before_the_first_seal(history: Case) -> None:
    response = Client().get(f"/ledger/proofs/{history.reference}.json")
    assert response.status_code == 404
    assert Client().get("/ledger/seals/99.json").status_code == 404


def _rfc6962(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc6962(leaves[:k]) + _rfc6962(leaves[k:])).digest()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, 31, 64, 100])
def test_the_tree_is_rfc_6962(size: int) -> None:
    leaves = [f"leaf {i}".encode() for i in range(size)]
    hashes = [hashlib.sha256(b"\x00" + x).digest() for x in leaves]
    root = merkle_root(hashes)
    assert root == _rfc6962(leaves)
    for i in range(size):
        path = audit_path(hashes, i)
        assert _independent_root(leaves[i], i, size, path) == root
        assert audit_path_verify(hashes[i], i, size, path, root)


# --- the key and the schedule -------------------------------------------------------------------


def test_development_generates_a_private_key_file(history: Case, signing_key: Path) -> None:
    assert not signing_key.exists()
    call_command("ledger", "seal")
    assert stat.S_IMODE(os.stat(signing_key).st_mode) == 0o600
    assert b"PRIVATE KEY" in signing_key.read_bytes()
    assert not LedgerSeal.objects.filter(public_key__contains="PRIVATE").exists()


def test_production_refuses_to_seal_without_a_configured_key(
    history: Case, settings: Any, signing_key: Path
) -> None:
    settings.PRODUCTION = True
    settings.TOWNHALL_LEDGER_KEY_FILE = None
    with pytest.raises(CommandError, match="TOWNHALL_LEDGER_KEY_FILE"):
        call_command("ledger", "seal")
    settings.TOWNHALL_LEDGER_KEY_FILE = str(signing_key)  # configured but absent: no key made
    with pytest.raises(CommandError, match="No ledger signing key"):
        call_command("ledger", "seal")
    assert not signing_key.exists() and not LedgerSeal.objects.exists()


def test_the_scheduler_seals_daily(settings: Any) -> None:
    assert ("townhall.cases.tasks.ledger_seal_task", 86400) in settings.TOWNHALL_PERIODIC_TASKS


def test_the_ledger_bench_runs_in_smoke_mode() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    done = subprocess.run(
        [sys.executable, "bench/ledger.py", "--smoke"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verify against the latest seal" in done.stdout and "ok: seals 1 and 2" in done.stdout


def test_a_rotated_key_keeps_sealing_and_old_seals_verify_with_the_old_key(
    history: Case, signing_key: Path, capsys: Any
) -> None:
    first = ledger_seal()
    old = first.public_key
    signing_key.unlink()  # a new key in the file (development makes one on the next seal)
    second = ledger_seal()
    assert second.key_id != first.key_id and second.prev_hash == first.hash
    call_command("ledger", "verify")  # the latest seal, with the key file's key
    with pytest.raises(CommandError):  # the old seal's key is not trusted unless given
        call_command("ledger", "verify", "--all-seals")
    call_command("ledger", "verify", "--all-seals", "--public-key", old)
    assert "2 seal(s) checked" in capsys.readouterr().out
