"""Benchmark: what the rate limiter adds to a request, on Redis.

1. The same request with and without the limiter: GET /open311/v2/services.json through
   Django's full handler (middleware, view, JSON), on SQLite with the catalogue cached,
   interleaved request by request with TOWNHALL_RATE_LIMITS_ENABLED on and off. The
   difference of the p50s is the limiter's cost per request (goal: under 0.3 ms); the
   median of the paired differences (each request against its neighbour) is printed too.
2. The limiter alone, per call, for the shapes the doors use: 1 window (Open311 GET),
   2 windows (Open311 POST: client and API key), 3 windows (sign-in link: the client's
   minute and hour and the address's hour), each in one pipelined round trip; against
   `limits`' own FixedWindowRateLimiter and MovingWindowRateLimiter (one round trip per
   window), and a bare Redis PING (the floor).
3. Redis memory per tracked client after 10,000 distinct clients.

Prints throughput, p50/p95/p99 per variant and the process's peak memory (RSS). Needs a
Redis (`--redis-url`, default db 14, which the bench empties). `--smoke` runs a few hundred
requests to check that everything works (make test runs it when Redis is up).

    python bench/ratelimit.py --help
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"

TOWN = {
    "jurisdiction": {
        "slug": "benchville",
        "name": "Benchville",
        "open311_id": "benchville.example.org",
        "timezone": "America/New_York",
        "country": "US",
        "subdivision": "MA",
        "centre": {"lat": 42.36, "long": -71.09},
    },
    "calendar": {"name": "Hours", "workdays": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"},
    "departments": [{"code": "dpw", "name": "Public Works"}],
    "groups": [{"code": "streets", "name": "Streets"}],
    "service_types": [
        {
            "code": f"service_{i}",
            "name": f"Service {i}",
            "group": "streets",
            "department": "dpw",
            "sla": [{"priority": "normal", "hours": 16, "clock": "business"}],
            "attributes": [],
        }
        for i in range(10)
    ],
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--requests", type=int, default=20_000, help="timed requests per variant")
    parser.add_argument("--calls", type=int, default=50_000, help="timed limiter calls per variant")
    parser.add_argument("--smoke", action="store_true", help="a few hundred of each: it runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.requests, args.calls = 200, 300
    return args


def percentiles(samples_ns: list[int]) -> tuple[float, float, float]:
    ordered = sorted(samples_ns)
    n = len(ordered)

    def at(q: float) -> float:
        return ordered[min(n - 1, int(q * n))] / 1e6

    return at(0.50), at(0.95), at(0.99)


def report(name: str, samples_ns: list[int]) -> float:
    p50, p95, p99 = percentiles(samples_ns)
    per_s = len(samples_ns) / (sum(samples_ns) / 1e9)
    print(f"  {name:<46} {per_s:>9,.0f}/s  p50 {p50:7.3f}  p95 {p95:7.3f}  p99 {p99:7.3f} ms")
    return p50


def alternate(variants: dict[str, Callable[[int], None]], total: int) -> dict[str, list[int]]:
    """Run each variant `total` times, interleaved call by call (A B C A B C …) so that
    every variant sees the same load on a shared machine; return the timings."""
    samples: dict[str, list[int]] = {name: [] for name in variants}
    calls = [(samples[name], call) for name, call in variants.items()]
    clock = time.perf_counter_ns
    for i in range(total):
        for out, call in calls:
            started = clock()
            call(i)
            out.append(clock() - started)
    return samples


def setup(args: argparse.Namespace, workdir: str) -> None:
    os.environ["DATABASE_URL"] = "sqlite://:memory:"
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["TOWNHALL_VAR_DIR"] = workdir
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "townhall.settings"
    # High enough that nothing is refused: the bench measures the counting, not the 429.
    os.environ["TOWNHALL_RATE_LIMITS"] = "open311_read=100000000/minute bench=100000000/minute"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from townhall.catalog.services import catalog_import

    catalog_import(spec=TOWN)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ratelimit-") as workdir:
        setup(args, workdir)
        return run(args)


def run(args: argparse.Namespace) -> int:
    import redis
    from django.conf import settings
    from django.test import Client, RequestFactory
    from limits import parse_many
    from limits.storage import RedisStorage
    from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

    from townhall.core import ratelimit

    conn = redis.Redis.from_url(args.redis_url)
    conn.ping()
    conn.flushdb()
    print(
        f"rate limiter on Redis {conn.info('server')['redis_version']} ({args.redis_url}); "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )

    # 1. the same request, with and without the limiter
    client = Client()
    url = "/open311/v2/services.json"
    assert client.get(url).status_code == 200  # warm: catalogue cached, connection open

    def request(_: int) -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"unexpected {response.status_code} from {url}")

    def with_limiter(i: int) -> None:
        settings.TOWNHALL_RATE_LIMITS_ENABLED = True
        request(i)

    def without_limiter(i: int) -> None:
        settings.TOWNHALL_RATE_LIMITS_ENABLED = False
        request(i)

    print(f"\nGET {url}, {args.requests:,} each, interleaved request by request:")
    samples = alternate(
        {"without the limiter (reference)": without_limiter, "with the limiter": with_limiter},
        args.requests,
    )
    settings.TOWNHALL_RATE_LIMITS_ENABLED = True
    ref = report("without the limiter (reference)", samples["without the limiter (reference)"])
    on = report("with the limiter", samples["with the limiter"])
    cost = on - ref
    pairs = zip(
        samples["with the limiter"], samples["without the limiter (reference)"], strict=True
    )
    paired = statistics.median(a - b for a, b in pairs) / 1e6
    print(f"  limiter cost per request at p50: {cost:.3f} ms (goal < 0.300)")
    print(f"  median of paired differences: {paired:.3f} ms")

    # 2. the limiter alone
    factory = RequestFactory()
    clients = [factory.get("/", REMOTE_ADDR=f"10.{i // 250}.{i % 250}.1") for i in range(1000)]
    settings.TOWNHALL_RATE_LIMITS = {
        **settings.TOWNHALL_RATE_LIMITS,
        "one": "100000000/minute",
        "two": "100000000/minute;100000000/hour",
        "three": "100000000/minute;100000000/hour",
        "three.target": "100000000/hour",
    }
    ratelimit.rate_limits_reset()
    storage = RedisStorage(args.redis_url, key_prefix="bench")
    fixed = FixedWindowRateLimiter(storage)
    moving = MovingWindowRateLimiter(storage)
    windows = parse_many("100000000/minute;100000000/hour;100000000/day")

    def ours(name: str, targets: bool = False) -> Callable[[int], None]:
        def call(i: int) -> None:
            ratelimit.rate_limit_hit(
                clients[i % 1000], name, targets=[f"r{i % 500}@example.org"] if targets else ()
            )

        return call

    def theirs(
        limiter: FixedWindowRateLimiter | MovingWindowRateLimiter, n: int
    ) -> Callable[[int], None]:
        def call(i: int) -> None:
            key = str(i % 1000)
            for item in windows[:n]:
                limiter.hit(item, type(limiter).__name__, key)

        return call

    variants: dict[str, Callable[[int], None]] = {
        "Redis PING (the floor)": lambda i: conn.ping(),
        "rate_limit_hit, 1 window": ours("one"),
        "rate_limit_hit, 2 windows (1 round trip)": ours("two"),
        "rate_limit_hit, 3 windows + target (1 trip)": ours("three", targets=True),
        "limits FixedWindow.hit x1": theirs(fixed, 1),
        "limits FixedWindow.hit x3 (3 round trips)": theirs(fixed, 3),
        "limits MovingWindow.hit x1": theirs(moving, 1),
        "limits MovingWindow.hit x3 (3 round trips)": theirs(moving, 3),
    }
    print(f"\nthe limiter alone, {args.calls:,} calls each, interleaved call by call:")
    timings = alternate(variants, args.calls)
    for name in variants:
        report(name, timings[name])

    # 3. Redis memory per tracked client
    conn.flushdb()
    before = int(conn.info("memory")["used_memory"])
    distinct = 1000 if args.smoke else 10_000
    for i in range(distinct):
        request_i = factory.get(
            "/", REMOTE_ADDR=f"172.{16 + i // 62500}.{i // 250 % 250}.{i % 250}"
        )
        ratelimit.rate_limit_hit(request_i, "two")
    after = int(conn.info("memory")["used_memory"])
    print(
        f"\nRedis memory for {distinct:,} clients x 2 windows: {(after - before) / 1024:,.0f} KiB "
        f"({(after - before) / distinct:,.0f} bytes per client)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS) of this process: {peak:,.0f} MiB")
    conn.flushdb()
    if args.smoke:
        print("smoke: ok")
        return 0
    median_ref = statistics.median(samples["without the limiter (reference)"]) / 1e6
    print(f"(median reference request {median_ref:.3f} ms)")
    return 0 if cost < 0.3 else 1


if __name__ == "__main__":
    sys.exit(main())
