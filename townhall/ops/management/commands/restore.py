"""`townhall restore ARCHIVE`: put a `townhall backup` archive back.

Every member's SHA-256 is checked against the manifest before anything is touched; a
database of another engine, an archive from a newer Townhall (migrations this code lacks)
and a target database that already has tables (without --force) are refused.
See docs/runbooks/backup-restore.md.
"""

from __future__ import annotations

import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from townhall.ops.management.archive import (
    ENGINES,
    PG_MEMBER,
    ArchiveError,
    database_is_empty,
    database_restore,
    engine,
    extract,
    media_restore,
    migrations_pending,
    migrations_unknown,
    open_archive,
    pg_binary,
    verify,
)


class Command(BaseCommand):
    help = (
        "Restore a `townhall backup` archive into DATABASES['default'] (DATABASE_URL) and the "
        "media storage. Checks every member's SHA-256 first; refuses an archive of another "
        "database engine or from a newer Townhall, and a database that already has tables "
        "unless --force. PostgreSQL: pg_restore --no-owner --clean --if-exists in one "
        "transaction; SQLite: the file replaced through SQLite's backup API. Then runs "
        "migrate when the archive's schema is older than this code."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("archive", type=Path, help="The .tar written by townhall backup.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Restore over a database that has tables (its objects are dropped and "
            "replaced; media files of the same name are overwritten).",
        )
        parser.add_argument(
            "--no-media", action="store_true", help="Restore the database only, not the media."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only verify the archive (checksums, engine, version) and change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._restore(options)
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc

    def _restore(self, options: dict[str, Any]) -> None:
        path: Path = options["archive"]
        with open_archive(path) as tar:
            manifest = verify(tar)
            self.stdout.write(
                f"Archive verified: {len(manifest['files'])} member(s), made "
                f"{manifest.get('created_at')} by Townhall {manifest.get('townhall_version')}."
            )
            here = engine()
            there = manifest.get("engine")
            if there != here:
                raise ArchiveError(
                    f"This archive holds a {ENGINES.get(str(there), there)} database but "
                    f"DATABASES['default'] here is {ENGINES[here]}. Restore it into a "
                    f"{ENGINES.get(str(there), there)} database (set DATABASE_URL); Townhall "
                    "does not convert between engines."
                )
            unknown = migrations_unknown(manifest.get("migrations") or {})
            if unknown:
                raise ArchiveError(
                    f"The archive's database has {len(unknown)} migration(s) this Townhall does "
                    f"not know (e.g. {unknown[0]}): it was made by a newer version "
                    f"({manifest.get('townhall_version')}). Restore with that version."
                )
            if manifest["database"] == PG_MEMBER:
                pg_binary("pg_restore")
            if options["check"]:
                self.stdout.write(self.style.SUCCESS("Check only: nothing was changed."))
                return
            if not options["force"] and not database_is_empty():
                raise ArchiveError(
                    f"The target database ({self._target()}) already has tables. Restore into "
                    "a new empty database, or give --force to replace its contents."
                )
            with tempfile.TemporaryDirectory(prefix="townhall-restore-") as tmp:
                dump = extract(tar, manifest["database"], Path(tmp))
                self.stdout.write(f"Restoring the {ENGINES[here]} database into {self._target()}…")
                database_restore(dump, manifest["database"])
            if options["no_media"] or not manifest.get("media", True):
                media_line = "media: not restored"
            else:
                count, renamed = media_restore(tar)
                media_line = f"media: {count} file(s) restored"
                for line in renamed:
                    self.stderr.write(f"media stored under another name: {line}")
        self.stdout.write(media_line)
        pending = migrations_pending()
        if pending:
            self.stdout.write(
                f"The archive's schema is older than this code: applying {len(pending)} "
                "migration(s)…"
            )
            call_command("migrate", interactive=False, verbosity=max(options["verbosity"] - 1, 0))
        self.stdout.write(self.style.SUCCESS("Restore complete."))
        self.stdout.write(
            "Check next:\n"
            "  1. townhall ledger verify   (with TOWNHALL_LEDGER_KEY_FILE set: the key is not "
            "in the archive)\n"
            "  2. townhall check --deploy and /readyz before sending traffic\n"
            "  3. the newest cases in the console match the time of the backup "
            f"({manifest.get('created_at')}); anything after it must be re-entered\n"
            "  4. start web, then workers and the scheduler"
        )

    @staticmethod
    def _target() -> str:
        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith("sqlite3"):
            return str(db["NAME"])
        return f"{db.get('NAME')} on {db.get('HOST') or 'localhost'}"
