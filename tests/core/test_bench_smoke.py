"""Every bench in bench/ runs in its --smoke mode, so none rots unnoticed.

The benches that measure PostgreSQL (and the Open311 one, which also needs wrk) run in the
PostgreSQL pass of `make test` (DATABASE_URL set to PostgreSQL), each in a small database of
its own (`<bench database>_smoke`); the others run in the SQLite pass. Some benches have their
smoke tests beside their features (ELSEWHERE). Every other script in bench/ is a helper
module or a data builder (HELPERS); a new bench that is in none of these fails this file.
"""

from __future__ import annotations

import os
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
    "forwarding": "ratio forwarding/raw post",
    "fuzz": "5xx: 0",
    "geometry": "ratio old/prepared",
    "knowledge": "mrr@10",
    "knowledge_languages": "mrr@10",
    "notices": "reference: get of the same page",
    "open311_params": "per post",
    "photos": "photos/s",
    "payments": "0 doubled: true",
    "tone": "model_f1",
    "triage": "accuracy",
    "triage_storage": "json + .npy",
    "waste": "ratio naive",
    "waste_years": "exact share",
}
POSTGRES = {
    "appointments": "bookings: exactly",
    "case_open": "cases/s",
    "console": "sla breach scan",
    "faults": "0 lost, 0 doubled",
    "insights": "ratio",
    "intake": "open311 post",
    "notify": "rows/s",
    "places": "fuzzy search",
    "portal": "page weight",
    "surge": "highest rate held",
    "open311": "ratio POST/minimal",
}

# the LOCAL benches that load the language models: test_bench_smoke_models.py runs them, and
# test_bench_smoke_postgres.py the POSTGRES ones, so parallel workers share the long runs
MODELS = {
    "assistant",
    "assistant_live",
    "knowledge",
    "knowledge_languages",
    "photos",
    "tone",
    "triage",
    "triage_storage",
}

# The LOCAL benches run without DATABASE_URL and REDIS_URL (run() drops them): the PostgreSQL
# pass would repeat the SQLite pass's run exactly, so it leaves them to that pass.
SQLITE_PASS_ONLY = pytest.mark.skipif(
    ON_POSTGRES, reason="the same run as in the SQLite pass (the bench drops DATABASE_URL)"
)

# bench -> the test file that runs it with --smoke
ELSEWHERE = {
    "inbound_mail": "tests/intake/test_inbound_mail_bench.py",
    "insights_dashboard": "tests/insights/test_rollups_bench.py",  # PostgreSQL pass
    "ledger": "tests/security/test_ledger.py",
    "privacy": "tests/security/test_privacy.py",
    "ratelimit": "tests/security/test_ratelimit.py",  # with REDIS_URL (the PostgreSQL pass)
    "voice": "tests/voice/test_voice_bench.py",
}
# scripts in bench/ that are not benchmarks: helpers imported by benches, data builders
HELPERS = {
    "__init__",
    "assistant_live_asgi",  # the ASGI app assistant_live.py serves
    "helpdesk_env",  # django-helpdesk beside Townhall, for open311.py
    "settings_bench",
    "settings_faults",  # the faults and surge benches' Townhall settings
    "settings_open311",
    "settings_portal",
    "smoke",  # --smoke itself
    "tone_lines",  # labelled lines tone.py builds from
    "topology",  # the loopback Townhall (PostgreSQL, Redis, gunicorn, workers) of faults and surge
    "triage_demo_examples",  # builds townhall/demo/data/triage_examples.csv
    "urls_open311",
}


def test_every_bench_script_runs_in_smoke_mode_somewhere() -> None:
    scripts = {path.stem for path in (ROOT / "bench").glob("*.py")}
    unrun = scripts - set(LOCAL) - set(POSTGRES) - set(ELSEWHERE) - HELPERS
    assert not unrun, f"benches no test runs with --smoke: {sorted(unrun)}"
    assert not (set(LOCAL) | set(POSTGRES) | set(ELSEWHERE) | HELPERS) - scripts
    for bench, test_file in ELSEWHERE.items():
        text = (ROOT / test_file).read_text(encoding="utf-8")
        assert f'"bench/{bench}.py", "--smoke"' in text, (bench, test_file)
    for bench in set(LOCAL) | set(POSTGRES) | set(ELSEWHERE):
        assert "--smoke" in (ROOT / "bench" / f"{bench}.py").read_text(encoding="utf-8") or (
            "add_smoke" in (ROOT / "bench" / f"{bench}.py").read_text(encoding="utf-8")
        ), bench


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


@SQLITE_PASS_ONLY
@pytest.mark.parametrize("bench", sorted(set(LOCAL) - MODELS))
def test_the_bench_runs_in_smoke_mode(bench: str) -> None:
    done = run(bench)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert LOCAL[bench] in done.stdout.lower(), done.stdout[-3000:]
