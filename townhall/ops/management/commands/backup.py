"""`townhall backup [PATH]`: the database, the media and a manifest in one tar file.

See docs/runbooks/backup-restore.md. The ledger's signing key is not included: keep it
apart from the archives (whoever holds both could rewrite history and re-seal it).
"""

from __future__ import annotations

from argparse import ArgumentParser, RawDescriptionHelpFormatter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from townhall.ops.management.archive import (
    ENGINES,
    ArchiveError,
    backup,
    default_archive_path,
)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


class Command(BaseCommand):
    help = (
        "Write one archive (tar) of the database, every file in the media storage and a "
        "manifest (version, engine, migrations, SHA-256 of each member). PostgreSQL is "
        "dumped with pg_dump --format=custom (password via PGPASSWORD), SQLite copied with "
        "its online backup API. Default path: var/backups/townhall-<UTC time>.tar. The "
        "ledger's signing key is NOT included: keep it elsewhere. Restore: townhall restore."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            type=Path,
            help="Where to write the archive (default: var/backups/townhall-<UTC time>.tar). "
            "It is written under PATH.partial and renamed once complete.",
        )
        parser.add_argument(
            "--no-media",
            action="store_true",
            help="The database only (e.g. media kept by the object store's own versioning).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"] or default_archive_path()
        if path.exists():
            raise CommandError(f"{path} exists already; give another path.")
        progress, task = self._progress(options["verbosity"])
        try:
            with progress:
                result = backup(
                    path,
                    media=not options["no_media"],
                    on_media_count=lambda n: progress.update(task, total=n, visible=n > 0),
                    on_media_file=lambda _name, _size: progress.advance(task),
                )
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        media = (
            "media not included (--no-media)"
            if options["no_media"]
            else f"{result.media} media file(s), {_mb(result.media_bytes)}"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {result.path}: {ENGINES[result.engine]} database "
                f"{_mb(result.database_bytes)}, {media}, {path.stat().st_size:,} bytes in all."
            )
        )
        self.stdout.write(
            "Copy it off this machine; keep the ledger key (TOWNHALL_LEDGER_KEY_FILE) "
            "elsewhere, not beside it."
        )

    def _progress(self, verbosity: int) -> tuple[Any, Any]:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(stderr=True)
        progress = Progress(
            TextColumn("media"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
            disable=verbosity == 0 or not console.is_terminal,
        )
        task = progress.add_task("media", total=None, visible=False)
        return progress, task
