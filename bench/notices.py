"""Benchmark: a recall's batch-code check with 100,000 affected codes.

On PostgreSQL (BENCH_DATABASE_URL, default a database of its own, townhall_bench_notices):
a recall notice is created through the services and --codes codes imported with the real
import (`recall_codes_import`, a batch per transaction with its chain event: codes/s), then
--lookups codes (half affected, half not, typed with spaces and lower case) are checked:

- in-process: `recall_code_check` (normalise, find the live recall, look the code up):
  p50/p95 and look-ups/s, against the reference of a bare indexed
  `SELECT 1 … WHERE recall_id = %s AND code = %s` on the same connection;
- over HTTP: the portal's POST /notices/<id>/ (CSRF, form, rate limiter off, the answer
  page rendered) on a threaded WSGI server in this process (127.0.0.1:--port), against the
  reference of a GET of the same page (no check);
- `townhall ledger verify`'s notices part (every code's digest recomputed) once.

Each line prints the process's peak memory so far (ru_maxrss).

    python bench/notices.py --help
    python bench/notices.py --smoke      # 2,000 codes on a temporary SQLite, for `make test`
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_notices"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--codes", type=int, default=100_000, help="affected codes imported")
    parser.add_argument("--lookups", type=int, default=5_000, help="in-process checks timed")
    parser.add_argument("--requests", type=int, default=1_000, help="HTTP checks timed")
    parser.add_argument("--port", type=int, default=8661)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a quick run on a temporary SQLite database (2,000 codes), for the test suite",
    )
    return parser.parse_args(argv)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(run: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        run()
        out.append((time.perf_counter() - started) * 1000)
    return out


def report(name: str, ms: list[float]) -> None:
    q = statistics.quantiles(ms, n=20)
    per_s = len(ms) / (sum(ms) / 1000)
    print(
        f"{name:<34} p50 {statistics.median(ms):7.3f} ms  p95 {q[18]:7.3f} ms  "
        f"{per_s:9,.0f} lookups/s  peak {peak_mb():6.0f} MB",
        flush=True,
    )


def setup(url: str, var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["TOWNHALL_VAR_DIR"] = str(var_dir)
    os.environ["TOWNHALL_RATE_LIMITS_ENABLED"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "townhall.settings"
    if url.startswith("postgres"):
        from bench.open311 import ensure_database

        ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def recall_made(codes: int) -> tuple[int, list[str]]:
    """A published recall with `codes` codes (imported through the real import, timed)."""
    from townhall.notices.imports import recall_codes_import
    from townhall.notices.services import notice_create, notice_publish
    from townhall.notify.alerts import alert_topic_ensure

    topic = alert_topic_ensure(code="recalls", name="Product recalls")
    notice = notice_create(
        kind="recall",
        topic=topic,
        title=f"Bench recall {datetime.now(UTC).isoformat()}",
        body="Bench.",
        advice="Return it.",
        product="Bench product",
    )
    rng = random.Random(7)
    made = [f"L{rng.randrange(10**9):09d}-{i:06d}" for i in range(codes)]
    started = time.perf_counter()
    result = recall_codes_import(notice.pk, enumerate(made, start=1))
    took = time.perf_counter() - started
    print(
        f"import {result.added:,} codes               {took:7.2f} s   "
        f"{result.added / took:9,.0f} codes/s    peak {peak_mb():6.0f} MB",
        flush=True,
    )
    notice_publish(notice.pk)
    return notice.pk, made


def queries(made: list[str], n: int) -> list[str]:
    """Half affected codes typed loosely, half codes not in the recall."""
    rng = random.Random(11)
    out = []
    for i in range(n):
        if i % 2 == 0:
            code = rng.choice(made)
            out.append(f" {code[:4].lower()} {code[4:]} ")
        else:
            out.append(f"X{rng.randrange(10**9):09d}")
    return out


def in_process(notice_id: int, made: list[str], n: int) -> None:
    from django.db import connection

    from townhall.notices.selectors import recall_code_check

    asked = queries(made, n)
    it = iter(asked)
    hits = 0

    def check() -> None:
        nonlocal hits
        result = recall_code_check(notice_id=notice_id, raw_code=next(it))
        hits += bool(result and result.affected)

    report("check in-process", timed(check, n))
    assert hits == (n + 1) // 2, hits
    recall_id = connection.cursor()
    recall_id.execute("SELECT id FROM notices_recall WHERE notice_id = %s", [notice_id])
    rid = recall_id.fetchone()[0]
    plain = iter(made[i % len(made)] for i in range(n))

    def select() -> None:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT 1 FROM notices_recallcode WHERE recall_id = %s AND code = %s LIMIT 1",
                [rid, next(plain).replace("-", "")],
            )
            cur.fetchone()

    report("reference: bare indexed SELECT", timed(select, n))


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def over_http(notice_id: int, made: list[str], n: int, port: int) -> None:
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        "127.0.0.1", port, get_wsgi_application(), server_class=_Server, handler_class=_Quiet
    )
    port = server.server_port  # --port 0 (the smoke run): any free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        path = f"/notices/{notice_id}/"
        conn.request("GET", path)
        first = conn.getresponse()
        body = first.read().decode()
        cookie = first.getheader("Set-Cookie", "").split(";")[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert first.status == 200, first.status
        assert token, "no CSRF token on the notice page"
        assert cookie, "no CSRF cookie from the notice page"
        asked = iter(queries(made, n))
        affected = 0

        def post() -> None:
            nonlocal affected
            form = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": token.group(1), "code": next(asked)}
            )
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Referer": f"http://127.0.0.1:{port}{path}",
            }
            conn.request("POST", path, body=form, headers=headers)
            response = conn.getresponse()
            page = response.read()
            assert response.status == 200, response.status
            affected += b"is in this recall" in page

        report("check over HTTP (POST)", timed(post, n))
        assert affected == (n + 1) // 2, affected

        def get() -> None:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status == 200

        report("reference: GET of the same page", timed(get, n))
    finally:
        server.shutdown()


def verify_once() -> None:
    from townhall.notices.chain import chain_verify

    started = time.perf_counter()
    events, breaks = chain_verify()
    took = time.perf_counter() - started
    print(
        f"ledger verify (notices)            {took:7.2f} s   {events} events, "
        f"{len(breaks)} breaks   peak {peak_mb():6.0f} MB",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url
        if args.smoke:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            args.codes, args.lookups, args.requests, args.port = 2_000, 200, 40, 0
        setup(url, Path(tmp))
        from django.db import connection

        print(
            f"# notices bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
            f"({os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{connection.vendor} {connection.cursor().connection.__class__.__module__})",
            flush=True,
        )
        notice_id, made = recall_made(args.codes)
        in_process(notice_id, made, args.lookups)
        over_http(notice_id, made, args.requests, args.port)
        verify_once()


if __name__ == "__main__":
    main()
