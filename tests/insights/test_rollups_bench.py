"""bench/insights_dashboard.py runs in its --smoke mode (the PostgreSQL pass of make test)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.mark.skipif(not ON_POSTGRES, reason="runs in the PostgreSQL pass of make test")
def test_the_dashboard_bench_runs_in_smoke_mode() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    done = subprocess.run(
        [sys.executable, "bench/insights_dashboard.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "smoke: ok" in done.stdout
    # The smoke database is shared with bench/insights.py's smoke import (whose recent
    # facts the incremental refresh also picks up), so the day count is not fixed here;
    # tests/insights/test_rollups.py checks which days an incremental refresh rebuilds.
    assert re.search(
        r"refresh \(incremental, 200 facts of one day changed\): \d+ day\(s\)", done.stdout
    ), done.stdout[-3000:]
    assert "all queries" in done.stdout
