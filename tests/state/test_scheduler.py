"""One scheduler per deployment: the scheduler lock (core/locks.py) and the command that
holds it; on PostgreSQL two real scheduler processes, one of which enqueues (issue 19)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from townhall.core.locks import AdvisoryLock, FileLock, lock_key, singleton_lock

ON_POSTGRES = "postgresql" in django_settings.DATABASES["default"]["ENGINE"]
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="advisory locks are PostgreSQL's")
WORKTREE = Path(__file__).resolve().parents[2]


def test_the_file_lock_has_one_holder_at_a_time(tmp_path: Path) -> None:
    first, second = (
        FileLock("scheduler", directory=tmp_path),
        FileLock("scheduler", directory=tmp_path),
    )
    assert first.acquire() and first.still_held()
    assert not second.acquire() and not second.still_held()
    first.release()
    assert second.acquire()
    assert (tmp_path / "scheduler.lock").read_text().strip() == str(os.getpid())
    second.release()


def test_lock_keys_are_stable_and_distinct() -> None:
    assert lock_key("scheduler") == lock_key("scheduler")
    assert lock_key("scheduler") != lock_key("other")
    assert -(2**63) <= lock_key("scheduler") < 2**63


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_a_second_scheduler_enqueues_nothing_while_the_first_holds_the_lock(
    var_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    held = singleton_lock("scheduler")  # the other copy (advisory on PostgreSQL, else a file)
    assert held.acquire()
    try:
        call_command("scheduler", "--once")
    finally:
        held.release()
    assert DBTaskResult.objects.count() == 0
    assert "another scheduler holds the lock" in caplog.text

    call_command("scheduler", "--once")  # the lock is free: every job once
    assert DBTaskResult.objects.count() == len(django_settings.TOWNHALL_PERIODIC_TASKS)


@pytest.mark.django_db
def test_bad_intervals_are_a_clear_error(var_dir: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="positive"):
        call_command("scheduler", "--once", "--retry", "0")


# --- PostgreSQL ------------------------------------------------------------------------


@postgres_only
@pytest.mark.django_db
def test_the_advisory_lock_is_held_on_its_own_connection_and_lost_with_it() -> None:
    first, second = AdvisoryLock("scheduler"), AdvisoryLock("scheduler")
    try:
        assert first.acquire() and first.still_held()
        assert not second.acquire() and not second.still_held()
        first.release()
        assert second.acquire() and second.still_held()
        # The server ends the holder's session (a restart, a network cut): the lock is lost.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE application_name = 'townhall scheduler lock'"
            )
        assert not second.still_held()
        assert first.acquire()
    finally:
        first.release()
        second.release()


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def schedulers(tmp_path: Path) -> Iterator[Callable[[str], tuple[subprocess.Popen[bytes], Path]]]:
    db = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "TOWNHALL_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(WORKTREE),
    }
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "townhall", "scheduler", "--tick", "0.2", "--retry", "0.3"],
                cwd=WORKTREE,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process, log

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_only_one_enqueues_and_the_standby_takes_over(
    schedulers: Callable[[str], tuple[subprocess.Popen[bytes], Path]],
) -> None:
    jobs = len(django_settings.TOWNHALL_PERIODIC_TASKS)

    def enqueued(log: Path) -> int:
        return log.read_text().count("enqueued townhall.")

    first, first_log = schedulers("first")
    _wait(lambda: enqueued(first_log) == jobs, "the first scheduler's jobs")
    second, second_log = schedulers("second")
    _wait(
        lambda: second_log.read_text().count("another scheduler holds the lock") >= 3,
        "the second scheduler to retry",
    )
    assert enqueued(second_log) == 0
    assert DBTaskResult.objects.count() == jobs  # nothing enqueued twice
    assert first.poll() is None and second.poll() is None

    first.terminate()  # SIGTERM: the process ends, its session and lock with it
    first.wait(timeout=10)
    _wait(lambda: enqueued(second_log) == jobs, "the standby to take over")
    assert DBTaskResult.objects.count() == 2 * jobs
    assert enqueued(first_log) == jobs  # the first enqueued nothing more before it ended
