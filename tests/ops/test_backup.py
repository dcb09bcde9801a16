"""`townhall backup` and `townhall restore` (issue 19), end to end on real databases.

pytest-django's test database lives inside a transaction: these tests instead make their own
databases (a PostgreSQL database created for the test and dropped after, or SQLite files in
a temporary directory), fill one through the services in a subprocess, and run the commands
as an operator would, as subprocesses with DATABASE_URL pointing at each database.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _pg_server() -> str:
    """The server of the PostgreSQL pass (DATABASE_URL), without a database name."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"


# Run in the source database's process: a town, three cases with history, media, a seal.
SEED = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from tests.conftest import SMALL_TOWN
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.services import (
    case_acknowledge, case_note_add, case_open, case_transition,
)
from townhall.catalog.services import catalog_import
from townhall.people.roles import StaffRole
from townhall.people.services import staff_user_create

town, _ = catalog_import(spec=SMALL_TOWN)
pothole = town.services.get(code="pothole")
worker = staff_user_create(username="cw", role=StaffRole.CASEWORKER, password="pw-for-tests-1")
for n in range(3):
    case = case_open(service_type=pothole, channel="web", description=f"Hole {n}",
                     answers={"size": "small"})
    case_acknowledge(case_id=case.pk)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=worker)
    case_note_add(case=case, text=f"Crew sent {n}", actor=worker, public=True)
default_storage.save("cases/2026/photo-1.jpg", ContentFile(b"\\xff\\xd8 a photo \\xff\\xd9"))
default_storage.save("cases/2026/12/photo-2.jpg", ContentFile(bytes(range(256)) * 40))
default_storage.save("top.txt", ContentFile(b"top level"))
call_command("ledger", "seal")
"""

MEDIA = {
    "cases/2026/photo-1.jpg": b"\xff\xd8 a photo \xff\xd9",
    "cases/2026/12/photo-2.jpg": bytes(range(256)) * 40,
    "top.txt": b"top level",
}


def _townhall(
    *args: str, url: str, var: Path, key: Path, check: bool = True, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DATABASE_URL": url,
        "TOWNHALL_VAR_DIR": str(var),
        "TOWNHALL_LEDGER_KEY_FILE": str(key),
        "DJANGO_SETTINGS_MODULE": "townhall.settings",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    argv = (
        [sys.executable, "-c", SEED]
        if args == ("seed",)
        else [sys.executable, "-m", "townhall", *args]
    )
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _tamper(archive: Path, member: str) -> None:
    """Flip one byte in the middle of `member`'s data, leaving the tar itself readable."""
    with tarfile.open(archive) as tar:
        info = tar.getmember(member)
    offset = info.offset_data + info.size // 2
    with archive.open("r+b") as raw:
        raw.seek(offset)
        byte = raw.read(1)
        raw.seek(offset)
        raw.write(bytes([byte[0] ^ 0x01]))


# --- PostgreSQL --------------------------------------------------------------------------


def _pg_count(url: str, sql: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def _pg_tables(url: str) -> int:
    return _pg_count(
        url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    )


@pytest.fixture
def pg_databases() -> Iterator[Any]:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("DATABASE_URL is not PostgreSQL (the PostgreSQL pass of make test runs it)")
    import psycopg

    made: list[str] = []

    def create() -> str:
        name = f"backup_t_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"{_pg_server()}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{_pg_server()}/{name}"

    yield create
    with psycopg.connect(f"{_pg_server()}/postgres", autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def pg_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A PostgreSQL database with cases, media and a seal, and its backup (made once)."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("DATABASE_URL is not PostgreSQL (the PostgreSQL pass of make test runs it)")
    import psycopg

    base = tmp_path_factory.mktemp("pg-backup")
    name = f"backup_src_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{_pg_server()}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{_pg_server()}/{name}"
    key = base / "keys" / "ledger-seal.key"
    try:
        _townhall("seed", url=url, var=base / "var-src", key=key)
        archive = base / "archive.tar"
        done = _townhall("backup", str(archive), url=url, var=base / "var-src", key=key)
        assert "3 media file(s)" in done.stdout
        yield {"url": url, "key": key, "archive": archive, "base": base}
    finally:
        with psycopg.connect(f"{_pg_server()}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_postgres_round_trip_into_a_new_database_verifies_against_the_seal(
    pg_source: dict[str, Any], pg_databases: Any, tmp_path: Path
) -> None:
    archive: Path = pg_source["archive"]
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert sorted(names) == sorted(
        ["database.dump", "manifest.json", *(f"media/{m}" for m in MEDIA)]
    )
    assert manifest["engine"] == "postgresql" and manifest["database"] == "database.dump"
    assert "0014_case_events_append_only" in manifest["migrations"]["cases"]
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    assert "ledger-seal.key" not in " ".join(names)  # the key stays out of the archive

    target = pg_databases()
    var = tmp_path / "var-restored"
    done = _townhall("restore", str(archive), url=target, var=var, key=pg_source["key"])
    assert "media: 3 file(s) restored" in done.stdout and "ledger verify" in done.stdout
    assert "applying" not in done.stdout  # same code: no migration to run

    cases = "SELECT count(*) FROM cases_case"
    assert _pg_count(target, cases) == _pg_count(pg_source["url"], cases) == 3
    events = "SELECT count(*) FROM cases_caseevent"
    source_events = _pg_count(pg_source["url"], events)
    assert _pg_count(target, events) == source_events > 3
    for name, body in MEDIA.items():
        assert (var / "media" / name).read_bytes() == body

    verified = _townhall("ledger", "verify", url=target, var=var, key=pg_source["key"])
    assert "no breaks" in verified.stdout and "1 seal(s) checked" in verified.stdout

    # --force over a database with tables: its objects are dropped and loaded again.
    forced = _townhall(
        "restore", "--force", "--no-media", str(archive), url=target, var=var, key=pg_source["key"]
    )
    assert "Restore complete" in forced.stdout
    assert _pg_count(target, cases) == 3 and _pg_count(target, events) == source_events


@pytest.mark.postgres
def test_postgres_a_tampered_archive_is_refused_before_anything_is_restored(
    pg_source: dict[str, Any], pg_databases: Any, tmp_path: Path
) -> None:
    archive = tmp_path / "tampered.tar"
    archive.write_bytes(pg_source["archive"].read_bytes())
    _tamper(archive, "database.dump")
    target = pg_databases()
    var = tmp_path / "var"
    done = _townhall(
        "restore", str(archive), url=target, var=var, key=pg_source["key"], check=False
    )
    assert done.returncode == 1
    assert "Checksum mismatch for 'database.dump'" in done.stderr
    assert _pg_tables(target) == 0
    assert not (var / "media").exists()


@pytest.mark.postgres
def test_postgres_restore_into_a_database_with_tables_needs_force(
    pg_source: dict[str, Any], tmp_path: Path
) -> None:
    url, key = pg_source["url"], pg_source["key"]
    var = tmp_path / "var"
    done = _townhall("restore", str(pg_source["archive"]), url=url, var=var, key=key, check=False)
    assert done.returncode == 1
    assert "already has tables" in done.stderr and "--force" in done.stderr
    assert not (var / "media").exists()


@pytest.mark.postgres
def test_postgres_archive_is_refused_on_sqlite_with_a_clear_message(
    pg_source: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "target.sqlite3"
    done = _townhall(
        "restore",
        str(pg_source["archive"]),
        url=f"sqlite:///{target}",
        var=tmp_path,
        key=pg_source["key"],
        check=False,
    )
    assert done.returncode == 1
    assert "holds a PostgreSQL database" in done.stderr and "here is SQLite" in done.stderr
    assert not target.exists()


@pytest.mark.postgres
def test_postgres_without_pg_dump_on_path_says_what_to_install(
    pg_source: dict[str, Any], tmp_path: Path
) -> None:
    done = _townhall(
        "backup",
        str(tmp_path / "a.tar"),
        url=pg_source["url"],
        var=tmp_path,
        key=pg_source["key"],
        check=False,
        PATH=str(tmp_path),  # no PostgreSQL client here
    )
    assert done.returncode == 1
    assert "pg_dump is not on PATH" in done.stderr and "postgresql-client" in done.stderr
    assert not list(tmp_path.glob("a.tar*"))


# --- SQLite ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("sqlite-backup")
    url = f"sqlite:///{base / 'source.sqlite3'}"
    key = base / "keys" / "ledger-seal.key"
    _townhall("seed", url=url, var=base / "var-src", key=key)
    done = _townhall("backup", url=url, var=base / "var-src", key=key)  # the default path
    archives = list((base / "var-src" / "backups").glob("townhall-*.tar"))
    assert len(archives) == 1 and str(archives[0]) in done.stdout
    assert archives[0].stat().st_mode & 0o077 == 0  # personal data: owner only
    return {"url": url, "key": key, "archive": archives[0], "db": base / "source.sqlite3"}


def _sqlite_count(path: Path, sql: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_sqlite_round_trip_into_a_fresh_file(sqlite_source: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "restored" / "townhall.sqlite3"
    url = f"sqlite:///{target}"
    var = tmp_path / "var"
    done = _townhall(
        "restore", str(sqlite_source["archive"]), url=url, var=var, key=sqlite_source["key"]
    )
    assert "media: 3 file(s) restored" in done.stdout
    cases = "SELECT count(*) FROM cases_case"
    assert _sqlite_count(target, cases) == _sqlite_count(sqlite_source["db"], cases) == 3
    for name, body in MEDIA.items():
        assert (var / "media" / name).read_bytes() == body
    verified = _townhall("ledger", "verify", url=url, var=var, key=sqlite_source["key"])
    assert "no breaks" in verified.stdout and "1 seal(s) checked" in verified.stdout

    again = _townhall(
        "restore",
        str(sqlite_source["archive"]),
        url=url,
        var=var,
        key=sqlite_source["key"],
        check=False,
    )
    assert again.returncode == 1 and "already has tables" in again.stderr
    forced = _townhall(
        "restore",
        "--force",
        "--no-media",
        str(sqlite_source["archive"]),
        url=url,
        var=var,
        key=sqlite_source["key"],
    )
    assert "media: not restored" in forced.stdout
    assert _sqlite_count(target, cases) == 3


def test_sqlite_a_tampered_media_file_is_refused_and_nothing_is_written(
    sqlite_source: dict[str, Any], tmp_path: Path
) -> None:
    archive = tmp_path / "tampered.tar"
    archive.write_bytes(sqlite_source["archive"].read_bytes())
    _tamper(archive, "media/cases/2026/12/photo-2.jpg")
    target = tmp_path / "townhall.sqlite3"
    done = _townhall(
        "restore",
        str(archive),
        url=f"sqlite:///{target}",
        var=tmp_path,
        key=sqlite_source["key"],
        check=False,
    )
    assert done.returncode == 1
    assert "Checksum mismatch for 'media/cases/2026/12/photo-2.jpg'" in done.stderr
    assert not target.exists() and not (tmp_path / "media").exists()


def test_archive_with_a_member_outside_the_manifest_is_refused(
    sqlite_source: dict[str, Any], tmp_path: Path
) -> None:
    archive = tmp_path / "extra.tar"
    archive.write_bytes(sqlite_source["archive"].read_bytes())
    evil = tmp_path / "evil"
    evil.write_bytes(b"x")
    with tarfile.open(archive, "a") as tar:
        tar.add(evil, arcname="media/../../escape")
    done = _townhall(
        "restore",
        str(archive),
        url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        var=tmp_path / "var",
        key=sqlite_source["key"],
        check=False,
    )
    assert done.returncode == 1 and "not in the manifest" in done.stderr
    assert not (tmp_path / "escape").exists() and not (tmp_path / "db.sqlite3").exists()


def test_not_an_archive_and_a_missing_file_give_clear_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    key = tmp_path / "k"
    done = _townhall("restore", str(junk), url=url, var=tmp_path, key=key, check=False)
    assert done.returncode == 1 and "not a readable tar archive" in done.stderr
    missing = _townhall(
        "restore", str(tmp_path / "nope.tar"), url=url, var=tmp_path, key=key, check=False
    )
    assert missing.returncode == 1 and "No archive at" in missing.stderr
    assert "Traceback" not in done.stderr + missing.stderr


def test_an_archive_from_an_older_schema_is_migrated_after_the_restore(tmp_path: Path) -> None:
    source = tmp_path / "old.sqlite3"
    url = f"sqlite:///{source}"
    key = tmp_path / "k"
    _townhall("migrate", "--noinput", "-v0", url=url, var=tmp_path, key=key)
    _townhall("migrate", "insights", "0002_rollups_marks", "-v0", url=url, var=tmp_path, key=key)
    archive = tmp_path / "old.tar"
    _townhall("backup", "--no-media", str(archive), url=url, var=tmp_path, key=key)
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["migrations"]["insights"] == ["0002_rollups_marks"]
    assert manifest["media"] is False and "media/" not in " ".join(manifest["files"])

    target = tmp_path / "new.sqlite3"
    done = _townhall(
        "restore", str(archive), url=f"sqlite:///{target}", var=tmp_path / "var", key=key
    )
    assert "applying 1 migration(s)" in done.stdout and "media: not restored" in done.stdout
    applied = "SELECT count(*) FROM django_migrations WHERE name = '0003_fact_area_index'"
    assert _sqlite_count(target, applied) == 1


def test_an_archive_from_a_newer_townhall_is_refused(
    sqlite_source: dict[str, Any], tmp_path: Path
) -> None:
    newer = tmp_path / "newer.tar"
    with tarfile.open(sqlite_source["archive"]) as old, tarfile.open(newer, "w") as new:
        for info in old.getmembers():
            data = old.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == "manifest.json":
                manifest = json.loads(data)
                manifest["migrations"]["cases"] = ["0999_from_the_future"]
                manifest["townhall_version"] = "9.0.0"
                data = json.dumps(manifest).encode()
                info.size = len(data)
            new.addfile(info, io.BytesIO(data))
    target = tmp_path / "db.sqlite3"
    done = _townhall(
        "restore",
        str(newer),
        url=f"sqlite:///{target}",
        var=tmp_path,
        key=sqlite_source["key"],
        check=False,
    )
    assert done.returncode == 1
    assert "cases.0999_from_the_future" in done.stderr and "9.0.0" in done.stderr
    assert not target.exists()


def test_media_are_listed_through_the_storage_so_object_storage_works_too() -> None:
    """Backups walk storage.listdir, not the file system: S3 (moto) lists the same names."""
    import boto3
    from django.core.files.base import ContentFile
    from moto import mock_aws
    from storages.backends.s3 import S3Storage

    from townhall.ops.management.archive import media_names

    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="media")
        storage = S3Storage(bucket_name="media", region_name="us-east-1")
        for name, body in MEDIA.items():
            storage.save(name, ContentFile(body))
        assert sorted(media_names(storage)) == sorted(MEDIA)
