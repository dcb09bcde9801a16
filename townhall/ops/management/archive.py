"""One archive file for a whole Townhall: the database, the media and a manifest.

Used by ``townhall backup`` and ``townhall restore`` (docs/runbooks/backup-restore.md).
The archive is a plain tar (PAX) holding:

- ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``) or ``database.sqlite3``
  (SQLite, a copy made with SQLite's online backup API);
- ``media/<name>`` for every file in the default storage (listed through the storage's
  own ``listdir``, so object storage works as the file system does);
- ``manifest.json``: the Townhall version, the database engine, the migrations applied
  (their heads per app), when it was made, and the size and SHA-256 of every other member.

It needs only the database connection, the storages and files: no model is imported.
The ledger's signing key is deliberately NOT in the archive (keep it apart).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import DatabaseError, connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

FORMAT = 1
MANIFEST = "manifest.json"
PG_MEMBER = "database.dump"
SQLITE_MEMBER = "database.sqlite3"
MEDIA_PREFIX = "media/"
CHUNK = 1024 * 1024
ENGINES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


class ArchiveError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# --- the database ------------------------------------------------------------------------


def engine() -> str:
    """'postgresql' or 'sqlite' for DATABASES['default']; anything else is refused."""
    vendor = connection.vendor
    if vendor not in ENGINES:
        raise ArchiveError(
            f"Backups support PostgreSQL and SQLite; DATABASES['default'] is {vendor}."
        )
    return vendor


def pg_binary(name: str) -> str:
    """The path of pg_dump or pg_restore, or a clear error when the client is missing."""
    found = shutil.which(name)
    if not found:
        raise ArchiveError(
            f"{name} is not on PATH. Install the PostgreSQL client matching the server's major "
            f"version (Debian/Ubuntu: apt-get install postgresql-client-15) and try again."
        )
    return found


def pg_env() -> dict[str, str]:
    """The libpq environment for DATABASES['default']: the password never goes on argv."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("NAME", "PGDATABASE"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    options = db.get("OPTIONS") or {}
    for key, var in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(key):
            env[var] = str(options[key])
    return env


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(  # noqa: S603 - fixed binaries, no shell, no secrets in argv
        argv, env=pg_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise ArchiveError(f"{what} failed (exit {done.returncode}):\n{detail}")


def database_dump(into: Path) -> str:
    """Write the database to a file under `into`; return the archive member's name."""
    if engine() == "postgresql":
        target = into / PG_MEMBER
        _run(
            [pg_binary("pg_dump"), "--format=custom", "--no-password", f"--file={target}"],
            "pg_dump",
        )
        return PG_MEMBER
    target = into / SQLITE_MEMBER
    source = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
    copy = sqlite3.connect(str(target))
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()
    return SQLITE_MEMBER


def database_is_empty() -> bool:
    """True when the target database has no table at all (a missing SQLite file is empty)."""
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite" and not Path(str(db["NAME"])).exists():
        return True
    try:
        with connection.cursor() as cursor:
            return not connection.introspection.table_names(cursor)
    except DatabaseError as exc:
        raise ArchiveError(f"Cannot open the target database {db.get('NAME')}: {exc}") from exc


def database_restore(dump: Path, member: str) -> None:
    """Load `dump` (an archive member on disk) into DATABASES['default']."""
    connections.close_all()
    if member == PG_MEMBER:
        _run(
            [
                pg_binary("pg_restore"),
                "--no-owner",
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--exit-on-error",
                "--no-password",
                f"--dbname={settings.DATABASES['default']['NAME']}",
                str(dump),
            ],
            "pg_restore",
        )
        return
    check = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"The archive's SQLite database is unreadable: {exc}") from exc
    finally:
        check.close()
    if not result or result[0] != "ok":
        raise ArchiveError(f"The archive's SQLite database fails its integrity check: {result}")
    # Copy page by page through SQLite itself: the target is replaced in one transaction,
    # under SQLite's locks, with its WAL and journal handled (never a half-written file).
    target_path = Path(str(settings.DATABASES["default"]["NAME"]))
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(str(dump))
    target = sqlite3.connect(str(target_path), timeout=20)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def migration_heads() -> dict[str, list[str]]:
    """Per app, the applied migrations that no other applied migration of the app follows."""
    applied = set(MigrationRecorder(connection).applied_migrations())
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    heads: dict[str, list[str]] = {}
    for app, name in sorted(applied):
        node = (app, name)
        later = (
            {child for child in graph.node_map[node].children if child[0] == app}
            if node in graph.node_map
            else set()
        )
        if not later & applied:
            heads.setdefault(app, []).append(name)
    return heads


def migrations_unknown(heads: dict[str, list[str]]) -> list[str]:
    """The archive's applied migrations that this Townhall's code does not have."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return [
        f"{app}.{name}"
        for app, names in sorted(heads.items())
        for name in names
        if (app, name) not in graph.nodes
    ]


def migrations_pending() -> list[str]:
    """Migrations of this code not yet applied to DATABASES['default']."""
    from django.db.migrations.executor import MigrationExecutor

    connections.close_all()
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(targets)]


# --- the media ---------------------------------------------------------------------------


def media_names(storage: Storage | None = None, path: str = "") -> Iterator[str]:
    """Every file in the storage, recursively, through listdir (file system and objects)."""
    storage = storage or default_storage
    try:
        dirs, files = storage.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in sorted(files):
        yield f"{path}/{name}" if path else name
    for sub in sorted(dirs):
        yield from media_names(storage, f"{path}/{sub}" if path else sub)


def safe_media_name(member: str) -> str:
    """The storage name of a media member; refuses absolute paths and '..'."""
    name = member[len(MEDIA_PREFIX) :]
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or any(p in {"", ".", ".."} for p in parts):
        raise ArchiveError(f"Refusing an unsafe member name in the archive: {member!r}")
    return name


# --- writing and reading the archive -----------------------------------------------------


class _Hashing(io.RawIOBase):
    """A read-only stream that hashes what passes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self.raw.read(-1 if size is None else size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _add(tar: tarfile.TarFile, name: str, raw: IO[bytes], size: int) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    stream = _Hashing(raw)
    tar.addfile(info, stream)
    if stream.size != size:
        raise ArchiveError(f"{name} changed size while it was being archived; try again.")
    return {"sha256": stream.sha256.hexdigest(), "size": size}


def townhall_version() -> str:
    try:
        return importlib.metadata.version("townhall")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def default_archive_path() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.VAR_DIR) / "backups" / f"townhall-{stamp}.tar"


@dataclass
class BackupResult:
    path: Path
    engine: str
    media: int = 0
    media_bytes: int = 0
    database_bytes: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)


def backup(
    path: Path,
    *,
    media: bool = True,
    on_media_count: Callable[[int], None] | None = None,
    on_media_file: Callable[[str, int], None] | None = None,
) -> BackupResult:
    """Write the archive to `path` (via a temporary name, renamed once complete)."""
    kind = engine()
    heads = migration_heads()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    result = BackupResult(path=path, engine=kind)
    files: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".townhall-backup-") as tmp:
            member = database_dump(Path(tmp))
            dump = Path(tmp) / member
            result.database_bytes = dump.stat().st_size
            # Personal data: readable by this user only, from the first byte.
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with (
                os.fdopen(fd, "wb") as out,
                tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar,
            ):
                with dump.open("rb") as raw:
                    files[member] = _add(tar, member, raw, result.database_bytes)
                dump.unlink()
                if media:
                    names = list(media_names())
                    if on_media_count:
                        on_media_count(len(names))
                    for name in names:
                        size = default_storage.size(name)
                        with default_storage.open(name, "rb") as raw:
                            files[MEDIA_PREFIX + name] = _add(tar, MEDIA_PREFIX + name, raw, size)
                        result.media += 1
                        result.media_bytes += size
                        if on_media_file:
                            on_media_file(name, size)
                manifest = {
                    "format": FORMAT,
                    "townhall_version": townhall_version(),
                    "engine": kind,
                    "database": member,
                    "migrations": heads,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "media": media,
                    "files": files,
                }
                body = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(body)
                info.mode = 0o600
                info.mtime = int(datetime.now(UTC).timestamp())
                tar.addfile(info, io.BytesIO(body))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    result.manifest = manifest
    return result


def _digest(tar: tarfile.TarFile, info: tarfile.TarInfo) -> str:
    raw = tar.extractfile(info)
    if raw is None:
        raise ArchiveError(f"Archive member {info.name!r} is not a regular file.")
    sha = hashlib.sha256()
    while chunk := raw.read(CHUNK):
        sha.update(chunk)
    return sha.hexdigest()


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        info = tar.getmember(MANIFEST)
    except KeyError:
        raise ArchiveError("Not a Townhall backup: the archive has no manifest.json.") from None
    raw = tar.extractfile(info)
    if raw is None:
        raise ArchiveError("The archive's manifest.json is not a regular file.")
    try:
        manifest: dict[str, Any] = json.loads(raw.read())
    except ValueError as exc:
        raise ArchiveError(f"The archive's manifest.json is damaged: {exc}") from exc
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise ArchiveError(
            f"Unknown backup format {manifest.get('format')!r}: this Townhall reads "
            f"format {FORMAT}."
        )
    return manifest


def open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise ArchiveError(f"No archive at {path}.")
    try:
        return tarfile.open(path, "r:")
    except tarfile.TarError as exc:
        raise ArchiveError(f"{path} is not a readable tar archive: {exc}") from exc


def verify(tar: tarfile.TarFile) -> dict[str, Any]:
    """Check every member against the manifest's SHA-256 before anything is touched."""
    manifest = read_manifest(tar)
    expected: dict[str, dict[str, Any]] = manifest["files"]
    seen: set[str] = set()
    try:
        members = tar.getmembers()
    except tarfile.TarError as exc:
        raise ArchiveError(f"The archive is damaged: {exc}") from exc
    for info in members:
        if info.name == MANIFEST:
            continue
        if info.name not in expected:
            raise ArchiveError(f"Archive member {info.name!r} is not in the manifest: refused.")
        if info.name in seen:
            raise ArchiveError(f"Archive member {info.name!r} appears twice: refused.")
        if not info.isfile():
            raise ArchiveError(f"Archive member {info.name!r} is not a regular file: refused.")
        if info.name.startswith(MEDIA_PREFIX):
            safe_media_name(info.name)
        elif info.name != manifest.get("database"):
            raise ArchiveError(f"Unexpected archive member {info.name!r}: refused.")
        seen.add(info.name)
        try:
            digest = _digest(tar, info)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"Archive member {info.name!r} is unreadable: {exc}") from exc
        if digest != expected[info.name]["sha256"]:
            raise ArchiveError(
                f"Checksum mismatch for {info.name!r}: the archive is damaged or was altered. "
                "Nothing was restored."
            )
    missing = sorted(set(expected) - seen)
    if missing:
        raise ArchiveError(f"The archive lacks {len(missing)} member(s), e.g. {missing[0]!r}.")
    if manifest.get("database") not in seen:
        raise ArchiveError("The archive holds no database.")
    return manifest


def extract(tar: tarfile.TarFile, member: str, into: Path) -> Path:
    raw = tar.extractfile(member)
    if raw is None:
        raise ArchiveError(f"Archive member {member!r} is not a regular file.")
    target = into / PurePosixPath(member).name
    with target.open("wb") as out:
        shutil.copyfileobj(raw, out, CHUNK)
    return target


def media_restore(
    tar: tarfile.TarFile, on_file: Callable[[str, int], None] | None = None
) -> tuple[int, list[str]]:
    """Put every media member back into the default storage under its own name."""
    restored = 0
    renamed: list[str] = []
    for info in tar.getmembers():
        if not info.name.startswith(MEDIA_PREFIX):
            continue
        name = safe_media_name(info.name)
        raw = tar.extractfile(info)
        if raw is None:  # checked by verify()
            continue
        if default_storage.exists(name):
            default_storage.delete(name)
        saved = default_storage.save(name, File(raw, name=PurePosixPath(name).name))
        if saved != name:
            renamed.append(f"{name} -> {saved}")
        restored += 1
        if on_file:
            on_file(name, info.size)
    return restored, renamed
