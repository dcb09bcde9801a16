"""Every bench in bench/ runs in its --smoke mode, so none rots unnoticed.

The benches that measure PostgreSQL (and the Open311 one, which also needs wrk) run in the
PostgreSQL pass of `make test` (DATABASE_URL set to PostgreSQL), each in a small database of
its own (`<bench database>_smoke`); the others run in every pass. The ledger, privacy and
rate-limit benches have their smoke tests beside their features (tests/security).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

# bench -> a line its smoke run prints when it measured something
LOCAL = {
    "assistant": "oos recall",
    "assistant_live": "messages/s",
    "forecast": "n-week",
    "geometry": "ratio old/prepared",
    "knowledge": "mrr@10",
    "open311_params": "per post",
    "tone": "model_f1",
    "triage": "accuracy",
    "waste": "ratio naive",
    "waste_years": "exact share",
}
POSTGRES = {
    "case_open": "cases/s",
    "console": "sla breach scan",
    "insights": "ratio",
    "intake": "open311 post",
    "notify": "rows/s",
    "places": "fuzzy search",
    "portal": "page weight",
    "open311": "ratio POST/minimal",
}


def run(bench: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, f"bench/{bench}.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("bench", sorted(LOCAL))
def test_the_bench_runs_in_smoke_mode(bench: str) -> None:
    done = run(bench)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert LOCAL[bench] in done.stdout.lower(), done.stdout[-3000:]


@pytest.mark.skipif(not ON_POSTGRES, reason="runs in the PostgreSQL pass of make test")
@pytest.mark.parametrize("bench", sorted(POSTGRES))
def test_the_postgresql_bench_runs_in_smoke_mode(bench: str) -> None:
    if bench == "open311" and shutil.which("wrk") is None:
        pytest.fail("bench/open311.py needs wrk: apt-get install wrk (.ci/run installs it)")
    done = run(bench)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert POSTGRES[bench].lower() in done.stdout.lower(), done.stdout[-3000:]
    if bench == "open311":  # issue 19's reference: the same single INSERT, same server
        assert "ratio post/bare insert" in done.stdout.lower(), done.stdout[-3000:]
