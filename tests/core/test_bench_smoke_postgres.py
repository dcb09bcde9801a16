"""The benches that measure PostgreSQL run in their --smoke mode in the PostgreSQL pass of
`make test` (tests/core/test_bench_smoke.py lists every bench)."""

from __future__ import annotations

import shutil

import pytest

from tests.core.test_bench_smoke import ON_POSTGRES, POSTGRES, run


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
