"""gunicorn hooks for Prometheus multiprocess mode: `-c python:townhall.ops.gunicorn_conf`.

With PROMETHEUS_MULTIPROC_DIR set, each worker keeps its counters in files in that
directory and /metrics adds them up. The directory is emptied when gunicorn starts (old
files would count twice), and a worker's live gauges are dropped when it exits.
Other gunicorn settings still come from the command line or GUNICORN_CMD_ARGS.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
