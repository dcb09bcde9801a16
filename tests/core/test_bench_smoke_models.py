"""The benches that load the language models run in their --smoke mode (their own file, so
a parallel worker takes them beside tests/core/test_bench_smoke.py's)."""

from __future__ import annotations

import pytest

from tests.core.test_bench_smoke import LOCAL, MODELS, SQLITE_PASS_ONLY, run


@SQLITE_PASS_ONLY
@pytest.mark.parametrize("bench", sorted(MODELS))
def test_the_model_bench_runs_in_smoke_mode(bench: str) -> None:
    done = run(bench)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert LOCAL[bench] in done.stdout.lower(), done.stdout[-3000:]
