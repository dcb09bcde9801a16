"""bench/voice.py runs in its --smoke mode (tests/core/test_bench_smoke.py, ELSEWHERE)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_voice_bench_runs_in_smoke_mode() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    done = subprocess.run(
        [sys.executable, "bench/voice.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "voice: every turn" in done.stdout and "reference: sms turn" in done.stdout
    assert "goal < 100 ms" in done.stdout
