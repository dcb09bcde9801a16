"""Benchmark: the Open311 API over HTTP, against references measured in the same run.

On PostgreSQL, with a cases table of --existing rows (1,000,000 by default; seeded once
and kept), a real server (gunicorn, `--workers` processes) and a load generator on
loopback (wrk, from Debian's package; `apt-get install wrk`):

1. POST requests.json at 1, 8 and 32 concurrent clients, rounds alternating with the same
   server's minimal JSON view (`/bench/minimal.json`, a view that does nothing) and a bare
   view that does the same single INSERT (`/bench/insert.json`: one case-sized row into
   cases_case with raw SQL, in one transaction; bench/urls_open311.py). Goals (issue 19):
   >= 0.5 x the bare INSERT, p95 < 50 ms at 32 clients.
2. GET requests.json with typical filters: p95 (goal < 30 ms), and the number of queries
   for page sizes 10, 100 and 1,000 (goal: the same).
3. Unless --no-helpdesk: django-helpdesk 2.6.1 from PyPI, in its own virtualenv and
   database on the same PostgreSQL with --existing tickets, creating and listing tickets
   through its REST API under the same load. Goals: >= 10 x its creation rate (issue 19)
   and >= 5 x its list rate.

Prints throughput, latency percentiles and the servers' peak memory (VmHWM of workers).

    python bench/open311.py --help
    python bench/open311.py --smoke     # a few hundred cases, one second a run: it runs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.smoke import smoke_url  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_open311"
HELPDESK_URL = "postgres://postgres@127.0.0.1:5432/helpdesk_bench"

WRK_SCRIPT = """
local bodies = {}
local n = 0
init = function(args)
  for i = 1, 97 do
    if VARY then
      bodies[i] = BODY .. "&description=Bench+report+" .. i .. "&lat=42.3" .. i .. "&long=-71.0" .. i
    else
      bodies[i] = BODY
    end
  end
end
request = function()
  if METHOD == "GET" then return wrk.format("GET", PATH, HEADERS) end
  n = n + 1
  return wrk.format("POST", PATH, HEADERS, bodies[(n % 97) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p95_us\\": %d, " ..
    "\\"p99_us\\": %d, \\"non2xx\\": %d, \\"socket_errors\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--helpdesk-database-url", default=HELPDESK_URL)
    parser.add_argument(
        "--existing", type=int, default=1_000_000, help="cases (and tickets) already stored"
    )
    parser.add_argument(
        "--duration", type=int, default=8, help="seconds per measurement (default 8)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating rounds per point (default 2)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn worker processes (default 2)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per worker (default 1: sync)"
    )
    parser.add_argument(
        "--concurrency", default="1,8,32", help="POST client counts (default 1,8,32)"
    )
    parser.add_argument("--no-helpdesk", action="store_true", help="skip the django-helpdesk side")
    parser.add_argument("--no-lists", action="store_true", help="skip the GET measurements")
    parser.add_argument(
        "--helpdesk-lists",
        type=int,
        default=3,
        help="helpdesk list requests, one after another (default 3: each takes minutes at 1M)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="Townhall server's port (default: a free one)"
    )
    parser.add_argument(
        "--helpdesk-port", type=int, default=0, help="helpdesk server's port (default: a free one)"
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="the server's Redis (cache and rate limits; default db 14 or $BENCH_REDIS_URL)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="500 cases in a database of its own, 1 s runs at 1 and 4 clients, no helpdesk: "
        "checks the bench still runs (make test)",
    )
    args = parser.parse_args()
    if args.smoke:
        if args.database_url == DEFAULT_URL:
            args.database_url = smoke_url(DEFAULT_URL)
        args.existing, args.duration, args.rounds = min(args.existing, 500), 1, 1
        args.concurrency, args.no_helpdesk = "1,4", True
    return args


# --- the Townhall side ----------------------------------------------------------------------


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_open311"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(existing: int) -> None:
    """Load the demo catalogue and bulk-insert `existing` cases over two years, 15 % still
    open, each with its OPENED event and, for the finished ones, a public closing note."""
    from django.core.management import call_command
    from django.db import connection
    from rich.progress import Progress

    from townhall.catalog.models import ServiceType
    from townhall.catalog.services import catalog_import
    from townhall.demo.loader import town_spec

    call_command("migrate", interactive=False, verbosity=0)
    if not ServiceType.objects.exists():
        catalog_import(spec=town_spec())
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_case")
        have = cur.fetchone()[0]
    missing = existing - have
    if missing <= 0:
        print(f"seed: {have:,} cases already present")
        return
    services = list(ServiceType.objects.values_list("pk", "department_id"))
    batch = 50_000
    with Progress() as progress:
        bar = progress.add_task(f"seeding {missing:,} cases", total=missing)
        done = 0
        while done < missing:
            n = min(batch, missing - done)
            with connection.cursor() as cur:
                cur.execute(
                    """
                    WITH s AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY
                               AS t(service_id, department_id, k)),
                    new AS (
                      INSERT INTO cases_case (service_type_id, description, public_description,
                        public_summary, track_key, answers, lat, long, address, address_id,
                        media_url, channel, priority, department_id, status, opened_at, updated_at)
                      SELECT s.service_id, 'seeded case ' || g, 'seeded case ' || g, '', '',
                        '{}'::jsonb, 42.33 + random() / 20,
                        -71.12 + random() / 20, g || ' Main Street', '', '', 'web', 'normal',
                        s.department_id,
                        CASE WHEN g %% 20 < 3 THEN (ARRAY['new','acknowledged','in_progress'])[1 + g %% 3]
                             ELSE 'closed' END,
                        o.at, LEAST(o.at + interval '3 days', now())
                      FROM generate_series(1, %s) AS g
                      CROSS JOIN LATERAL (SELECT now() - random() * interval '730 days' + g * interval '0 s' AS at) o
                      JOIN s ON s.k = 1 + (g %% %s)
                      RETURNING id, opened_at, status),
                    opened AS (
                      INSERT INTO cases_caseevent (case_id, seq, kind, at, actor_label, channel, public,
                        data, prev_hash, hash)
                      SELECT id, 1, 'opened', opened_at, 'seed', 'web', true, '{}'::jsonb,
                        repeat('0', 64), md5(id::text) || md5(opened_at::text)
                      FROM new RETURNING 1)
                    INSERT INTO cases_caseevent (case_id, seq, kind, at, actor_label, channel, public,
                      data, prev_hash, hash)
                    SELECT id, 2, 'status_changed', opened_at + interval '3 days', 'seed', 'web', true,
                      '{"from": "in_progress", "to": "closed", "note": "Fixed by the crew"}'::jsonb,
                      md5(id::text) || md5(opened_at::text), md5(opened_at::text) || md5(id::text)
                    FROM new WHERE status = 'closed'
                    """,
                    [[s for s, _ in services], [d for _, d in services], n, len(services)],
                )
            done += n
            progress.advance(bar, n)
    with connection.cursor() as cur:
        cur.execute("ANALYZE cases_case; ANALYZE cases_caseevent")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - loopback
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


@contextmanager
def townhall_server(args: argparse.Namespace, port: int) -> Any:
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings_open311",
        "REDIS_URL": args.redis_url,
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")), "townhall.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
        "--threads", str(args.threads), "--log-level", "warning", "--backlog", "2048",
    ]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=ROOT, env=env)  # noqa: S603 - our own command line
    try:
        # Workers import the whole product: on a busy machine that takes more than 30 s.
        wait_http(f"http://127.0.0.1:{port}/bench/minimal.json", server, seconds=180)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def worker_peak_mb(server: subprocess.Popen[bytes]) -> float:
    """Return the largest peak resident size among the server's worker processes, in MB."""
    peak = 0
    for child in Path("/proc").glob("[0-9]*"):
        try:
            status = (child / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(server.pid):
            peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]))
    return peak / 1024


def wrk(url: str, *, connections: int, seconds: int, method: str = "GET", body: str = "",
        headers: dict[str, str] | None = None, vary: bool = True) -> dict[str, float]:  # fmt: skip
    """Run wrk against `url`; return requests/s, p50/p95/p99 in ms and error counts."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lua_headers = "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in (headers or {}).items()) + "}"
    script = (
        f"METHOD = {json.dumps(method)}\nPATH = {json.dumps(path)}\n"
        f"BODY = {json.dumps(body)}\nVARY = {'true' if vary else 'false'}\n"
        f"HEADERS = {lua_headers}\n" + WRK_SCRIPT
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(  # noqa: S603 - wrk with our own arguments
            [shutil.which("wrk") or "/usr/bin/wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s",
             "--timeout", "10s", "-s", handle.name, f"{parts.scheme}://{parts.netloc}/"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(handle.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    seconds_taken = raw["duration_us"] / 1e6
    return {
        "rps": raw["requests"] / seconds_taken,
        "p50": raw["p50_us"] / 1000,
        "p95": raw["p95_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        "non2xx": raw["non2xx"],
        "socket_errors": raw["socket_errors"],
    }


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median round by throughput (with 2 rounds, the better one): noise only slows."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["non2xx"] = sum(r["non2xx"] for r in runs)
    chosen["socket_errors"] = sum(r["socket_errors"] for r in runs)
    return chosen


def post_body() -> str:
    """A form body for POST requests.json with a fresh key and the service's required answers."""
    from urllib.parse import urlencode

    from townhall.catalog.models import ServiceType
    from townhall.catalog.selectors import attribute_specs_for
    from townhall.open311.keys import api_key_issue

    service = ServiceType.objects.get(code="pothole")
    answers = {
        f"attribute[{s.code}]": s.values[0]
        for s in attribute_specs_for(service_type=service)
        if s.required and s.values
    }
    _, secret = api_key_issue(name="bench", requests_per_minute=10**9)
    return urlencode({"api_key": secret, "service_code": service.code, **answers})


def list_queries() -> dict[str, str]:
    from townhall.catalog.models import ServiceType

    # A service the POST rounds do not add to (they report potholes).
    code = (
        ServiceType.objects.exclude(code="pothole").order_by("pk").values_list("code", flat=True)[0]
    )
    from datetime import timedelta

    from django.utils import timezone

    week_ago = (timezone.now() - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    from townhall.cases.models import Case

    step = max(1, Case.objects.order_by("-pk").values_list("pk", flat=True)[0] // 5)
    ids = ",".join(c.reference for c in Case.objects.filter(pk__in=range(1, 5 * step, step)))
    return {
        "default (last 90 days, first 1,000)": "",
        "service_code + status=open": f"service_code={code}&status=open",
        "status=open, page_size=100": "status=open&page_size=100",
        "last 7 days, page 2 of 100": f"start_date={week_ago}&page_size=100&page=2",
        "5 service_request_ids": f"service_request_id={ids}",
        "updated_after (7 days), extensions": f"updated_after={week_ago}&page_size=100&extensions=true",
    }


def query_counts() -> dict[int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.get("/open311/v2/requests.json", {"page_size": 1})  # catalogue read, once a minute
    counts = {}
    for size in (10, 100, 1000):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/open311/v2/requests.json", {"page_size": size})
        assert response.status_code == 200, response.content[:300]
        counts[size] = len(ctx.captured_queries)
    return counts


# --- reporting ------------------------------------------------------------------------------


def row(label: str, r: dict[str, float]) -> str:
    errors = f"  non-2xx {int(r['non2xx'])}" if r["non2xx"] or r["socket_errors"] else ""
    return (
        f"  {label:<44} {r['rps']:8.1f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms"
        f"  p99 {r['p99']:6.1f} ms{errors}"
    )


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed as the load generator: apt-get install wrk")
        return 2
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    seed(args.existing)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM django_tasks_database_dbtaskresult")
        cur.execute("SELECT count(*) FROM cases_case")
        total = cur.fetchone()[0]
    body = post_body()
    queries = list_queries()
    counts = query_counts()
    connection.close()
    results: dict[str, Any] = {"query_counts": counts}
    concurrency = [int(c) for c in args.concurrency.split(",")]
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()} "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PostgreSQL {connection.pg_version}; gunicorn {args.workers} workers x {args.threads} "
        f"threads; wrk on loopback; {args.duration} s per run, {args.rounds} rounds"
    )
    print(f"cases table: {total:,} rows")
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with townhall_server(args, port) as server:
        wrk(f"{base}/bench/minimal.json", connections=2, seconds=2)  # warm both workers
        wrk(
            f"{base}/open311/v2/requests.json",
            connections=2,
            seconds=2,
            method="POST",
            body=body,
            headers=form,
        )
        wrk(
            f"{base}/bench/insert.json",
            connections=2,
            seconds=2,
            method="POST",
            body=body,
            headers=form,
        )
        print("POST requests.json against the same server's minimal view and bare INSERT")
        for c in concurrency:
            minimal_runs, insert_runs, post_runs = [], [], []
            for _ in range(args.rounds):
                minimal_runs.append(
                    wrk(f"{base}/bench/minimal.json", connections=c, seconds=args.duration)
                )
                insert_runs.append(
                    wrk(
                        f"{base}/bench/insert.json",
                        connections=c,
                        seconds=args.duration,
                        method="POST",
                        body=body,
                        headers=form,
                    )
                )
                post_runs.append(
                    wrk(
                        f"{base}/open311/v2/requests.json",
                        connections=c,
                        seconds=args.duration,
                        method="POST",
                        body=body,
                        headers=form,
                    )
                )
            m, i, p = best(minimal_runs), best(insert_runs), best(post_runs)
            results[f"minimal_c{c}"], results[f"insert_c{c}"], results[f"post_c{c}"] = m, i, p
            print(row(f"minimal view, {c} clients", m))
            print(row(f"bare INSERT view, {c} clients", i))
            print(row(f"POST requests.json, {c} clients", p))
            print(f"  ratio POST/minimal at {c} clients: {p['rps'] / m['rps']:.2f}")
            print(
                f"  ratio POST/bare INSERT at {c} clients: {p['rps'] / i['rps']:.2f} (goal >= 0.5)"
            )
        print("GET requests.json, typical filters (p95 goal < 30 ms)")
        for c in (1, 8) if not args.no_lists else ():
            for label, query in queries.items():
                url = f"{base}/open311/v2/requests.json" + (f"?{query}" if query else "")
                r = best(
                    [wrk(url, connections=c, seconds=args.duration) for _ in range(args.rounds)]
                )
                results[f"list_c{c}_{label}"] = r
                print(row(f"{label}, {c} cl.", r))
        results["townhall_worker_peak_mb"] = worker_peak_mb(server)
    print(f"queries per GET requests.json by page size: {counts}")
    print(f"Townhall worker peak RSS: {results['townhall_worker_peak_mb']:.0f} MB")
    if not args.no_helpdesk and not args.no_lists:
        helpdesk(args, results)
    print(f"bench process max RSS {__import__('resource').getrusage(0).ru_maxrss / 1024:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


def timed_gets(url: str, headers: dict[str, str], count: int) -> list[float]:
    """GET `url` `count` times in a row; return each latency in ms (for lists too slow for wrk)."""
    times = []
    for _ in range(count):
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=900) as response:  # noqa: S310
            response.read()
            assert response.status == 200, response.status
        times.append((time.perf_counter() - started) * 1000)
    return times


def helpdesk(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """Create and list django-helpdesk tickets through its REST API, same load and database server."""
    import helpdesk_env  # bench/helpdesk_env.py

    python = helpdesk_env.ensure_venv(ROOT)
    helpdesk_env.prepare(python, args.helpdesk_database_url, tickets=args.existing)
    port = args.helpdesk_port or free_port()
    # Its ticket list takes minutes at 1M tickets (below): give workers time to finish one.
    server = helpdesk_env.start_server(
        python, args.helpdesk_database_url, port, workers=args.workers, timeout=900
    )
    try:
        ends = helpdesk_env.endpoints(port)
        # DRF token authentication: Basic would hash the password (PBKDF2) on every request.
        headers = {"Authorization": ends.token_authorization}
        create_headers = {**headers, "Content-Type": ends.content_type}
        print(
            f"django-helpdesk 2.6.1 ({args.existing:,} tickets), same PostgreSQL, "
            f"{args.workers} workers"
        )
        wrk(ends.create_url, connections=2, seconds=2, method="POST",
            body=ends.create_body.decode(), headers=create_headers, vary=False)  # fmt: skip
        for c in concurrency_of(args):
            runs = [
                wrk(ends.create_url, connections=c, seconds=args.duration, method="POST",
                    body=ends.create_body.decode(), headers=create_headers, vary=False)
                for _ in range(args.rounds)
            ]  # fmt: skip
            r = best(runs)
            results[f"helpdesk_create_c{c}"] = r
            print(row(f"helpdesk create ticket, {c} clients", r))
            ours = results[f"post_c{c}"]
            print(
                f"  Townhall POST / helpdesk create at {c} clients: "
                f"{ours['rps'] / r['rps']:.1f} x (goal >= 10)"
            )
        # One client, a few requests in a row: each takes minutes at this size, because
        # helpdesk 2.6.1 loads every matching ticket (a query each) before paginating.
        times = timed_gets(ends.list_url, headers, args.helpdesk_lists)
        rate = 1000 * len(times) / sum(times)
        results["helpdesk_list_c1_ms"] = times
        ours = results["list_c1_status=open, page_size=100"]
        print(
            f"  helpdesk list open tickets, 100 a page, 1 client: {rate:.4f} req/s; "
            f"latencies {', '.join(f'{t / 1000:.1f} s' for t in times)}"
        )
        print(
            f"  Townhall list (status=open, 100) / helpdesk list at 1 client: "
            f"{ours['rps'] / rate:,.0f} x (goal >= 5)"
        )
        results["helpdesk_worker_peak_mb"] = worker_peak_mb(server)
        print(f"helpdesk worker peak RSS: {results['helpdesk_worker_peak_mb']:.0f} MB")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def concurrency_of(args: argparse.Namespace) -> list[int]:
    return [int(c) for c in args.concurrency.split(",")]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
