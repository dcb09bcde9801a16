"""django-helpdesk 2.6.1 beside Townhall, for bench/open311.py: its venv, its database, its server.

    from bench.helpdesk_env import endpoints, ensure_venv, prepare, start_server

    python = ensure_venv(ROOT)              # var/bench/helpdesk-venv, once
    prepare(python, url)                    # migrate, user, queue, 1,000,000 tickets (kept)
    server = start_server(python, url, port)
    ep = endpoints(port)                    # URLs, body, headers for the load generator
    ...
    server.terminate()
    server.wait()

Stdlib and psycopg only: this module runs in Townhall's venv; helpdesk's Django runs in its own
(bench/helpdesk/ is its project, bench.helpdesk.settings its settings).
"""

# Every subprocess argv here is built from constants and paths, none from outside input.
# ruff: noqa: S603

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "bench.helpdesk.settings"
USERNAME = "bench"
PASSWORD = "bench-password"  # noqa: S105 - a local benchmark account
TOKEN = "0123456789abcdef0123456789abcdef01234567"  # noqa: S105 - DRF token, same account
QUEUE_ID = 1  # the one queue prepare() makes in a fresh database
OPEN_STATUSES = "1,2"  # helpdesk's Open and Reopened (TICKET_OPEN_STATUSES)
PAGE_SIZE = 100
BATCH = 100_000

SETUP_SCRIPT = f"""
import django
django.setup()
from django.contrib.auth import get_user_model
from helpdesk.models import Queue
from rest_framework.authtoken.models import Token
User = get_user_model()
user = User.objects.filter(username={USERNAME!r}).first()
if user is None:
    user = User.objects.create_superuser({USERNAME!r}, "bench@example.invalid", {PASSWORD!r})
queue, _ = Queue.objects.get_or_create(slug="bench", defaults={{"title": "Bench"}})
Token.objects.get_or_create(user=user, defaults={{"key": {TOKEN!r}}})
print(queue.pk)
"""


def requirements() -> list[str]:
    """helpdesk pinned; Django and psycopg at the versions Townhall runs, so only the apps differ."""
    pins = ["django-helpdesk==2.6.1", "gunicorn"]
    for dist, requirement in (("django", "Django"), ("psycopg", "psycopg[binary]")):
        try:
            pins.append(f"{requirement}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pins.append(requirement)
    return pins


def ensure_venv(root: Path = ROOT) -> Path:
    """Make root/var/bench/helpdesk-venv with django-helpdesk 2.6.1, gunicorn and psycopg.

    Idempotent: a marker file holding the requirements makes a second call instant (and a
    change of requirements reinstalls). Returns the venv's python.
    """
    venv = root / "var" / "bench" / "helpdesk-venv"
    python = venv / "bin" / "python"
    marker = venv / ".bench-installed"
    wanted = "\n".join(requirements())
    if marker.exists() and marker.read_text() == wanted:
        return python
    if not python.exists():
        print(f"helpdesk: creating {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print(f"helpdesk: pip install {' '.join(requirements())}")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements()],
        check=True,
    )
    marker.write_text(wanted)
    return python


def django_env(database_url: str, root: Path = ROOT) -> dict[str, str]:
    """Environment for helpdesk's Django: its settings, its database, the repo on the path."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "HELPDESK_DATABASE_URL": database_url,
        "PYTHONPATH": str(root),
    }


def ensure_database(database_url: str) -> None:
    """CREATE DATABASE if it is missing (connecting to the server's postgres database)."""
    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(python: Path, database_url: str, tickets: int = 1_000_000, root: Path = ROOT) -> None:
    """Migrate, make the `bench` superuser (and its token) and one queue, then seed tickets.

    Seeding tops helpdesk_ticket up to `tickets` rows, 100,000 a statement, each ticket with
    the "Ticket Opened" follow-up the API would write; rows are kept, so a second run seeds
    nothing. Created dates run over the last two years in id order; 13 % Open, 2 % Reopened,
    45 % Closed, 40 % Resolved.
    """
    ensure_database(database_url)
    env = django_env(database_url, root)
    print("helpdesk: migrate")
    subprocess.run(
        [str(python), "-m", "django", "migrate", "--noinput", "-v0"], cwd=root, env=env, check=True
    )
    made = subprocess.run(
        [str(python), "-c", SETUP_SCRIPT],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    if int(made.stdout.split()[-1]) != QUEUE_ID:
        raise RuntimeError(f"the bench queue is not id {QUEUE_ID}: use a fresh database")
    seed(database_url, tickets)


SEED_SQL = """
WITH g AS (
  -- Row k of `total` is created (k / total) of the way through the last two years.
  SELECT k, random() AS r, now() - interval '730 days' * (1 - k::float8 / %(total)s::bigint) AS created
  FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS k),
new AS (
  INSERT INTO helpdesk_ticket (title, queue_id, created, modified, submitter_email, status, on_hold,
    description, resolution, priority, secret_key)
  SELECT 'Seeded ticket ' || k, %(queue)s::int, created,
    created + CASE WHEN r < 0.15 THEN interval '0' ELSE random() * interval '20 days' END,
    'citizen' || (k %% 5000) || '@example.invalid',
    CASE WHEN r < 0.13 THEN 1 WHEN r < 0.15 THEN 2 WHEN r < 0.60 THEN 4 ELSE 3 END,
    false, 'Seeded ticket ' || k || ': something needs looking at.',
    CASE WHEN r < 0.15 THEN NULL ELSE 'Done.' END,
    (ARRAY[1, 2, 3, 3, 3, 4, 5])[1 + (k %% 7)], gen_random_uuid()::text
  FROM g
  RETURNING id, created, description)
INSERT INTO helpdesk_followup (ticket_id, date, title, comment, public, user_id, new_status,
  message_id, time_spent, email_recipients)
SELECT id, created, 'Ticket Opened', description, true, %(user)s::int, NULL, NULL, NULL, '[]'::jsonb
FROM new
"""


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """Yield advance(n): a rich progress bar where rich is installed, else a printed line."""
    try:
        from rich.progress import Progress
    except ImportError:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            print(f"helpdesk: {label}: {done:,} / {total:,}")

        yield advance
        return
    with Progress() as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def seed(database_url: str, tickets: int) -> None:
    """Top helpdesk_ticket up to `tickets` rows (with one follow-up each), then ANALYZE."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()[0]  # type: ignore[index]
        missing = tickets - have
        if missing <= 0:
            print(f"helpdesk: {have:,} tickets already present")
            return
        user = conn.execute("SELECT id FROM auth_user WHERE username = %s", [USERNAME]).fetchone()
        started = time.perf_counter()
        with progress_bar(missing, f"seeding {missing:,} tickets") as advance:
            for first in range(have + 1, tickets + 1, BATCH):
                last = min(first + BATCH - 1, tickets)
                params = {"total": tickets, "first": first, "last": last, "queue": QUEUE_ID}
                conn.execute(SEED_SQL, {**params, "user": user[0]})  # type: ignore[index]
                advance(last - first + 1)
        conn.execute("ANALYZE helpdesk_ticket")
        conn.execute("ANALYZE helpdesk_followup")
        print(f"helpdesk: seeded {missing:,} tickets in {time.perf_counter() - started:.0f} s")


def start_server(
    python: Path,
    database_url: str,
    port: int,
    workers: int = 2,
    timeout: int = 30,
    root: Path = ROOT,
) -> subprocess.Popen[bytes]:
    """Start gunicorn (sync workers, no access log) on 127.0.0.1:port and wait until it answers.

    `timeout` is gunicorn's worker timeout (its default, 30 s). Beware: helpdesk 2.6.1's ticket
    list loads every matching ticket (one query each) before paginating, about 2 minutes for
    the 150,000 open tickets of the 1M seed, so the list needs timeout >= 300 at that size.
    The caller terminates the returned process.
    """
    cmd = [
        str(python), "-m", "gunicorn", "bench.helpdesk.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
        "--timeout", str(timeout), "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=root, env=django_env(database_url, root))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/", timeout=2).close()
            return server
        except urllib.error.HTTPError:
            return server  # it answered
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"gunicorn did not answer on port {port} within 30 s")


@dataclass(frozen=True)
class Endpoints:
    """What a load generator needs to create and list helpdesk tickets over its REST API."""

    create_url: str
    create_method: str
    create_body: bytes
    content_type: str
    authorization: str  # HTTP Basic for bench / bench-password
    token_authorization: str  # DRF token for the same user: no password hashing per request
    list_url: str


def endpoints(port: int) -> Endpoints:
    """POST /api/tickets/ to create a ticket; GET /api/tickets/ for page 1 of the open ones.

    The create body needs queue, title, description (non-empty; missing it is a 500 in 2.6.1)
    and priority; submitter_email is optional. The list is filtered to the open statuses with
    ?status=1,2 (the only filter the API has) and asks for PAGE_SIZE (100) a page with
    ?page_size= (TicketViewSet's own pagination: 25 a page unless asked).
    """
    base = f"http://127.0.0.1:{port}/api/tickets/"
    body = {
        "queue": QUEUE_ID,
        "title": "Pothole outside 12 Elm Street",
        "description": "A deep pothole in the northbound lane, about 40 cm across.",
        "submitter_email": "resident@example.invalid",
        "priority": 3,
    }
    basic = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    return Endpoints(
        create_url=base,
        create_method="POST",
        create_body=json.dumps(body).encode(),
        content_type="application/json",
        authorization=f"Basic {basic}",
        token_authorization=f"Token {TOKEN}",
        list_url=f"{base}?status={OPEN_STATUSES}&page_size={PAGE_SIZE}",
    )
