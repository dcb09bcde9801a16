"""A second Townhall as a real server, for forwarding tests and bench/forwarding.py.

`RemoteTownhall` plays the county: gunicorn on a free loopback port serving the product
(bench/settings_open311.py: the product's settings with rate limits no test reaches) from a
database of its own (a SQLite file in its folder, or the PostgreSQL database it is given,
made fresh), migrated, with a county catalogue (`COUNTY`: road defects with a required
severity, street lights), an Open311 API key, and references starting "CO-" so its ids never
look like ours. It is driven from outside only, as a real remote would be:

- `start()` / `stop()`: the web server (the database stays; `start()` again brings it back
  on the same port, for outage tests). Startup waits for /healthz and fails with the end of
  the server's log; `stop()` ends the whole process group it started, by its id;
- `set_status(remote_id, status, note)`: the county's caseworker moving a case, run in the
  remote's environment (a helper process running this module's `serve`);
- `case(remote_id)`: what the remote stored (service, answers, status, description).

The `remote_townhall` fixture gives one per test module, on PostgreSQL (`<database>_remote`)
when DATABASE_URL points at it, on SQLite otherwise.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "bench.settings_open311"
PREFIX = "CO"
ANSWER = "@@remote-answer "  # the helper's answer lines (anything else it prints is skipped)

COUNTY: dict[str, Any] = {
    "jurisdiction": {
        "slug": "county",
        "name": "Middlesex County",
        "open311_id": "county.example.org",
        "timezone": "America/New_York",
        "country": "US",
        "subdivision": "MA",
        "centre": {"lat": 42.36, "long": -71.09},
    },
    "calendar": {
        "name": "County offices",
        "workdays": [0, 1, 2, 3, 4],
        "opens": "08:00",
        "closes": "16:00",
        "closures": [],
    },
    "departments": [{"code": "highways", "name": "County Highways"}],
    "groups": [{"code": "roads", "name": "Roads"}],
    "service_types": [
        {
            "code": "road_defect",
            "name": "Road defect",
            "group": "roads",
            "department": "highways",
            "sla": [{"priority": "normal", "hours": 72, "clock": "elapsed"}],
            "attributes": [
                {
                    "code": "severity",
                    "datatype": "singlevaluelist",
                    "required": True,
                    "description": "How bad is it?",
                    "values": [
                        {"key": "minor", "name": "Minor"},
                        {"key": "major", "name": "Major"},
                    ],
                },
                {"code": "depth", "datatype": "number", "required": False, "description": "cm"},
            ],
        },
        {
            "code": "streetlight_out",
            "name": "Street light out",
            "group": "roads",
            "department": "highways",
            "sla": [{"priority": "normal", "hours": 120, "clock": "elapsed"}],
            "attributes": [],
        },
    ],
}


def free_port() -> int:
    from bench.open311 import free_port as bench_free_port

    return bench_free_port()


def fresh_postgres_database(url: str) -> None:
    """Drop and create the PostgreSQL database `url` names (a remote starts empty)."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@dataclass
class RemoteTownhall:
    """Another body's Townhall on 127.0.0.1 (see the module's docstring)."""

    base: Path
    database_url: str = ""  # empty: SQLite in `base`
    workers: int = 1
    threads: int = 1
    port: int = 0
    redis_url: str = ""
    fresh: bool = True  # PostgreSQL: drop and create the database first
    start_seconds: float = 120.0
    api_key: str = ""
    jurisdiction_id: str = ""
    service_codes: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    admin: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def open311_url(self) -> str:
        return f"{self.url}/open311/v2/"

    @property
    def log_path(self) -> Path:
        return self.base / "remote-web.log"

    def env(self) -> dict[str, str]:
        var = self.base / "var"
        var.mkdir(parents=True, exist_ok=True)
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "DATABASE_REPLICA_URL"}
            and not key.startswith("PYTEST_")
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": SETTINGS,
                "TOWNHALL_VAR_DIR": str(var),
                "TOWNHALL_REFERENCE_PREFIX": PREFIX,
                "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
                    os.pathsep
                ),
                "DEBUG": "false",
                "LOG_LEVEL": "WARNING",
            }
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    # -- the remote's own commands -------------------------------------------------------

    def command(self, *args: str, timeout: float = 600) -> Any:
        """Run a command in the remote's environment (`main` below) and return its answer.

        The commands go to one helper process that set Django up once (started on first
        use, ended by `close`): a command line of its own costs seconds on a busy machine.
        """
        admin = self.admin
        if admin is None or admin.poll() is not None:
            admin = self.admin = subprocess.Popen(
                [sys.executable, "-m", "tests.forwarding.remote_townhall", "serve"],
                cwd=ROOT,
                env=self.env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=(self.base / "remote-admin.log").open("ab"),
                text=True,
                start_new_session=True,
            )
        assert admin.stdin is not None and admin.stdout is not None
        admin.stdin.write(json.dumps(list(args)) + "\n")
        admin.stdin.flush()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = admin.stdout.readline()
            if not line:
                break
            if line.startswith(ANSWER):
                answer = json.loads(line.removeprefix(ANSWER))
                if "error" in answer:
                    raise RuntimeError(f"remote command {args[:1]} failed: {answer['error']}")
                return answer["result"]
        raise RuntimeError(
            f"the remote's helper process ended on {args[:1]}: "
            + (self.base / "remote-admin.log").read_text(errors="replace")[-3000:]
        )

    def prepare(self) -> None:
        """Make the database (fresh on PostgreSQL), migrate, load the county, issue a key."""
        if self.database_url and self.fresh:
            fresh_postgres_database(self.database_url)
        facts = self.command("prepare")
        self.api_key = facts["api_key"]
        self.jurisdiction_id = facts["jurisdiction_id"]
        self.service_codes = facts["service_codes"]

    def set_status(self, remote_id: str, status: str, note: str = "") -> dict[str, Any]:
        """The county's caseworker moves `remote_id` to `status` (through "in progress" if
        the lifecycle needs it), with `note` shown to the public; return the case."""
        found: dict[str, Any] = self.command("status", remote_id, status, note)
        return found

    def case(self, remote_id: str) -> dict[str, Any]:
        """What the remote stored for `remote_id`."""
        found: dict[str, Any] = self.command("case", remote_id)
        return found

    def case_count(self) -> int:
        return int(self.command("count"))

    def close(self) -> None:
        """Stop the web server and the helper process."""
        self.stop()
        admin, self.admin = self.admin, None
        if admin is not None and admin.poll() is None:
            assert admin.stdin is not None
            admin.stdin.close()  # it ends at the end of its input
            try:
                admin.wait(timeout=30)
            except subprocess.TimeoutExpired:
                admin.kill()
                admin.wait(timeout=10)
        if admin is not None and admin.stdout is not None:
            admin.stdout.close()

    # -- the web server --------------------------------------------------------------------

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.port = self.port or free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        cmd = [
            str(gunicorn), "townhall.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--threads", str(self.threads), "--log-level", "warning", "--backlog", "2048",
            "--timeout", "60", "--graceful-timeout", "5",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env(), stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + self.start_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise RuntimeError(
                    f"the remote Townhall exited with {code} on start: {self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:  # noqa: S310 - loopback
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"the remote Townhall did not answer /healthz on port {self.port} "
            f"in {self.start_seconds:.0f} s: {self._log_tail()}"
        )

    def stop(self) -> None:
        """End the server (its master and workers: the process group it leads)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            process.wait(timeout=10)

    def worker_peak_mb(self) -> float:
        """The largest peak resident size among the server's workers, in MB."""
        if self.process is None:
            return 0.0
        from bench.open311 import worker_peak_mb

        return float(worker_peak_mb(self.process))

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> RemoteTownhall:
        self.base.mkdir(parents=True, exist_ok=True)
        try:
            self.prepare()
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remote_database_url(database_url: str) -> str:
    """PostgreSQL `database_url` -> the remote's database beside it (`<name>_remote`);
    anything else -> "" (SQLite)."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        return ""
    head, _, name = database_url.rpartition("/")
    name, _, query = name.partition("?")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # one per parallel test worker
    suffix = f"_remote_{worker}" if worker else "_remote"
    return f"{head}/{name}{suffix}" + (f"?{query}" if query else "")


@pytest.fixture(scope="module")
def remote_townhall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteTownhall]:
    """A second Townhall serving Open311 over real HTTP, for this test module."""
    remote = RemoteTownhall(
        base=tmp_path_factory.mktemp("remote_townhall"),
        database_url=remote_database_url(os.environ.get("DATABASE_URL", "")),
    )
    with remote:
        yield remote


# -- the commands run inside the remote's environment ----------------------------------------


def _prepare() -> dict[str, Any]:
    from django.core.management import call_command

    from townhall.catalog.services import catalog_import
    from townhall.open311.keys import api_key_issue

    call_command("migrate", interactive=False, verbosity=0)
    jurisdiction, _ = catalog_import(spec=COUNTY)
    _, secret = api_key_issue(name="our town", requests_per_minute=10**9)
    return {
        "api_key": secret,
        "jurisdiction_id": jurisdiction.open311_id,
        "service_codes": [s["code"] for s in COUNTY["service_types"]],
    }


def _case_facts(case: Any) -> dict[str, Any]:
    return {
        "id": case.pk,
        "reference": case.reference,
        "status": case.status,
        "service_code": case.service_type.code,
        "answers": case.answers,
        "description": case.description,
        "lat": case.lat,
        "long": case.long,
        "address": case.address,
        "channel": case.channel,
    }


def _set_status(remote_id: str, status: str, note: str) -> dict[str, Any]:
    from townhall.cases.lifecycle import CaseStatus
    from townhall.cases.selectors import case_get_by_reference
    from townhall.cases.services import case_transition
    from townhall.forwarding.remote_status import path_to

    case = case_get_by_reference(reference=remote_id)
    steps = path_to(CaseStatus(case.status), CaseStatus(status))
    if not steps:
        raise ValueError(f"{remote_id} cannot go from {case.status} to {status}")
    for step in steps:
        case = case_transition(
            case=case, to=step, actor=None, note=note if step == steps[-1] else ""
        )
    return _case_facts(case_get_by_reference(reference=remote_id))


def run(argv: list[str]) -> Any:
    """One command, Django set up: its JSON-able answer."""
    what = argv[0] if argv else ""
    if what == "prepare":
        return _prepare()
    if what == "status" and len(argv) in (3, 4):
        return _set_status(argv[1], argv[2], argv[3] if len(argv) == 4 else "")
    if what == "case" and len(argv) == 2:
        from townhall.cases.selectors import case_get_by_reference

        return _case_facts(case_get_by_reference(reference=argv[1]))
    if what == "count":
        from townhall.cases.models import Case

        return Case.objects.count()
    raise ValueError(f"unknown command {argv!r}")


def main(argv: list[str]) -> int:
    """`serve`: answer commands (JSON lists, one a line) until the input ends; or run one."""
    import django

    django.setup()
    if argv != ["serve"]:
        print(json.dumps(run(argv)))
        return 0
    from django.db import close_old_connections

    for line in sys.stdin:
        try:
            answer = {"result": run(json.loads(line))}
        except Exception as exc:  # the caller raises it, with the message
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        close_old_connections()
        sys.stdout.write(ANSWER + json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
