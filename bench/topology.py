"""A whole Townhall on loopback for the fault and surge benches: its own PostgreSQL cluster
(initdb in a temporary folder), its own Redis, gunicorn, db_workers, the scheduler and a
fake provider (a file, townhall/notify/channels/fakes.py), every one started here and
stopped at the end. Nothing shared with other work on the machine is touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(cmd: list[str]) -> list[str]:
    """Run `cmd` as the postgres OS user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def port_free(port: int) -> bool:
    """Nobody listens on 127.0.0.1:`port` (connections left in TIME_WAIT do not count)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


class Postgres:
    """A PostgreSQL cluster of our own (trust authentication, loopback, no fsync)."""

    def __init__(self, port: int, base: Path) -> None:
        self.port = port
        self.data = base / "pg"
        self.log = base / "pg.log"
        self.data.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(base, "postgres")
            shutil.chown(self.data, "postgres")
        subprocess.run(  # noqa: S603 - our own command line
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
            ),
            check=True,
            capture_output=True,
        )
        self.url = f"postgres://postgres@127.0.0.1:{port}/townhall"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data} -c fsync=off -c full_page_writes=off"
        subprocess.run(  # noqa: S603 - our own command line
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-w",
                    "-o",
                    options,
                    *args,
                ]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._ctl("start")
        wait_port(self.port)

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", "fast")

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE townhall")


class Redis:
    """A redis-server of our own, in memory only."""

    def __init__(self, port: int, base: Path) -> None:
        self.port = port
        self.base = base
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own command line
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.base)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


@dataclass
class Townhall:
    """The Townhall processes: gunicorn, db_workers, the scheduler; restarted when they
    exit on their own (as systemd or Kubernetes would), counted in `restarts`."""

    env: dict[str, str]
    web_port: int
    web_workers: int = 3
    db_workers: int = 2
    base: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    web: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    scheduler: subprocess.Popen[bytes] | None = None
    restarts: dict[str, int] = field(default_factory=lambda: {"db_worker": 0, "scheduler": 0})
    spawned: int = 0
    killed_busy: bool | None = None  # the last kill_worker() found the worker mid-batch
    worker_ids: dict[int, str] = field(default_factory=dict)  # pid -> --worker-id

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.base / f"{name}.log", "ab")  # noqa: SIM115 - kept by the child
        return subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log)  # noqa: S603

    def start_web(self) -> None:
        self.web = self._spawn(
            "web",
            [str(Path(sys.executable).with_name("gunicorn")), "townhall.wsgi:application",
             "--bind", f"127.0.0.1:{self.web_port}", "--workers", str(self.web_workers),
             "--log-level", "warning", "--backlog", "2048", "--timeout", "60"],
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.base / 'web.log'}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in 60 s")

    def worker_new(self) -> subprocess.Popen[bytes]:
        self.spawned += 1
        proc = self._spawn(
            "db_worker",
            [sys.executable, "-m", "townhall", "db_worker", "--interval", "0.2",
             "--no-startup-delay", "--worker-id", f"bench-{self.spawned}"],
        )  # fmt: skip
        self.worker_ids[proc.pid] = f"bench-{self.spawned}"
        return proc

    def start_workers(self) -> None:
        self.workers = [self.worker_new() for _ in range(self.db_workers)]
        self.scheduler = self._spawn(
            "scheduler", [sys.executable, "-m", "townhall", "scheduler", "--tick", "0.5"]
        )

    def supervise(self) -> None:
        """Start again any worker or scheduler that exited (not the ones we kill: those
        are replaced by the caller)."""
        for i, proc in enumerate(self.workers):
            if proc.poll() is not None:
                self.workers[i] = self.worker_new()
                self.restarts["db_worker"] += 1
        if self.scheduler is not None and self.scheduler.poll() is not None:
            self.scheduler = self._spawn(
                "scheduler", [sys.executable, "-m", "townhall", "scheduler", "--tick", "0.5"]
            )
            self.restarts["scheduler"] += 1

    def busy_worker(self, task_suffix: str, seconds: float) -> int:
        """The index of a worker running a task whose path ends with `task_suffix`, waiting
        up to `seconds` for one (0 when none was seen: the first worker)."""
        from django.db import connections
        from django_tasks_db.models import DBTaskResult

        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                running = DBTaskResult.objects.filter(
                    status="RUNNING", task_path__endswith=task_suffix
                ).values_list("worker_ids", flat=True)
                held = {ids[-1] for ids in running if ids}
                for i, proc in enumerate(self.workers):
                    if self.worker_ids.get(proc.pid) in held:
                        self.killed_busy = True
                        return i
                time.sleep(0.02)
        finally:
            connections.close_all()
        self.killed_busy = False
        return 0

    def kill_worker(self, index: int | None = None) -> None:
        """kill -9 a db_worker (by default one in the middle of sending a batch of the
        outbox) and start a new one in its place."""
        if index is None:
            index = self.busy_worker("notification_send_due_task", 10)
        proc = self.workers[index]
        self.workers[index] = self.worker_new()  # first, so supervise() never sees it dead
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        procs = [p for p in [self.web, self.scheduler, *self.workers] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def peak_rss_mb(root: subprocess.Popen[bytes] | None) -> float:
    """The largest peak resident size (VmHWM) of `root` and its children, in MB."""
    if root is None:
        return 0.0
    peak = 0
    for child in Path("/proc").glob("[0-9]*"):
        try:
            status = (child / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if child.name == str(root.pid) or fields.get("PPid", "").strip() == str(root.pid):
            peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]))
    return peak / 1024


def machine() -> str:
    import platform

    cpus = os.cpu_count()
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.node()} {platform.machine()}, {cpus} CPUs{mem}, Python {platform.python_version()}"
