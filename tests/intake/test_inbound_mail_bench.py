"""The inbound-mail benchmark (bench/inbound_mail.py) runs, and Townhall's own stripper and
converter get every case of its corpus right."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_inbound_mail_benchmark_runs_in_smoke_mode() -> None:
    env = dict(os.environ)
    env.pop("BENCH_INBOUND_PATH", None)  # only what Townhall itself installs
    done = subprocess.run(
        [sys.executable, "bench/inbound_mail.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "smoke: ok" in done.stdout
    assert "townhall email_new_text     25/25" in done.stdout
    assert "townhall html_to_text        8/8" in done.stdout
