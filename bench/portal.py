"""Benchmark: the citizen portal's pages, server time on PostgreSQL with 1 M cases.

In-process (Django's test client: the whole middleware stack and template rendering, no
network), against the same process's /healthz (a view that runs one `SELECT 1`) measured
in the same run as the reference. On the Open311 bench's database (`bench/open311.py`
seeds it once: 1,000,000 cases over two years in a 5 x 4 km box, 15 % open):

- home page, the report page's "where" step, its "details" step at a point (with the
  nearby open reports of the same service: one query on 1 M cases), the report POST
  (questions, description, location, contact; and with one 1-megapixel photo), and the
  private tracking page of an existing case;
- median and p95 server time, database queries per page;
- the report page's weight: HTML + CSS + JS, raw and gzip (the map's Leaflet is loaded
  only when the "where" step runs JavaScript: reported apart);
- peak memory of the process.

Goals (issue 5): each page at most 3 queries where possible; the report page under 150 kB.

    python bench/portal.py --help
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_open311"


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--existing", type=int, default=1_000_000, help="cases already stored")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--posts", type=int, default=150, help="timed report POSTs per variant")
    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, DEFAULT_URL, existing=500, requests=5, posts=5)
    return args


def setup(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_portal"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from bench.open311 import ensure_database

    ensure_database(args.database_url)
    import django

    django.setup()
    from bench.open311 import seed

    seed(args.existing)


def timed(client: Any, method: str, url: str, count: int, data_fn: Any = None) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, statuses = [], set()
    queries = None
    for i in range(count + 5):
        data = data_fn(i) if data_fn else None
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.post(url, data) if method == "POST" else client.get(url)
            elapsed = time.perf_counter() - start
        statuses.add(response.status_code)
        if i >= 5:  # the first few fill per-process caches
            times.append(elapsed * 1000)
            queries = len(ctx.captured_queries) if queries is None else max(queries, len(ctx))
    times.sort()
    return {
        "n": len(times),
        "p50": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        "queries": queries,
        "status": sorted(statuses),
    }


def photo_bytes() -> bytes:
    import io

    from PIL import Image

    image = Image.effect_noise((1200, 900), 60).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def page_weight(client: Any, url: str) -> dict[str, int]:
    import re

    from django.contrib.staticfiles import finders

    html = client.get(url).content
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html)
    leaflet = [b"/static/vendor/leaflet/leaflet.js", b"/static/vendor/leaflet/leaflet.css"]
    raw = {"html": len(html)}
    packed = {"html": len(gzip.compress(html, 9))}
    for kind, urls in (("page assets", assets), ("leaflet (on demand)", leaflet)):
        raw[kind] = packed[kind] = 0
        for asset in urls:
            path = finders.find(asset.decode().removeprefix("/static/"))
            body = Path(str(path)).read_bytes()
            raw[kind] += len(body)
            packed[kind] += len(gzip.compress(body, 9))
    return {
        **{f"raw {k}": v for k, v in raw.items()},
        **{f"gzip {k}": v for k, v in packed.items()},
    }


def main() -> int:
    args = parse_args()
    setup(args)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from townhall.cases.models import Case
    from townhall.cases.tracking import track_path
    from townhall.catalog.models import ServiceType

    client = Client()
    pothole = ServiceType.objects.get(code="pothole")
    point = (42.355, -71.095)
    nearby_open = Case.objects.filter(
        service_type=pothole,
        status__in=["new", "acknowledged", "in_progress"],
        lat__range=(point[0] - 0.00225, point[0] + 0.00225),
        long__range=(point[1] - 0.003, point[1] + 0.003),
    ).count()
    case = Case.objects.filter(status="closed").order_by("id").first()
    assert case is not None
    total = Case.objects.count()
    photo = photo_bytes()

    def post_data(i: int, with_photo: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "lat": point[0] + (i % 50) / 10_000,
            "long": point[1],
            "address": f"{i} Main Street",
            "attribute_size": "large",
            "description": f"Bench report {i}: deep hole by the kerb",
            "email": f"bench{i % 20}@example.org",
        }
        if with_photo:
            data["photos"] = [SimpleUploadedFile("p.jpg", photo, "image/jpeg")]
        return data

    n, posts = args.requests, args.posts
    pages = [
        ("/healthz (reference: one SELECT 1)", "GET", "/healthz", n, None),
        ("home", "GET", "/", n, None),
        ("report: where", "GET", "/report/pothole/", n, None),
        ("report: details at a point (nearby search)", "GET",
         f"/report/pothole/?lat={point[0]}&long={point[1]}", n, None),
        ("report POST", "POST", "/report/pothole/", posts, post_data),
        ("report POST with a 1 MP photo", "POST", "/report/pothole/", posts,
         lambda i: post_data(i, True)),
        ("tracking page (private link)", "GET", track_path(case), n, None),
    ]  # fmt: skip
    results = [
        (label, timed(client, method, url, count, fn)) for label, method, url, count, fn in pages
    ]
    weight = page_weight(client, f"/report/pothole/?lat={point[0]}&long={point[1]}")
    where_weight = page_weight(client, "/report/pothole/")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\nbench/portal.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL, {total:,} cases "
          f"({nearby_open} open potholes within ~250 m of the point)")  # fmt: skip
    reference = results[0][1]["p50"]
    print("\n| page | n | p50 ms | p95 ms | p50 / reference | queries | status |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, r in results:
        print(f"| {label} | {r['n']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['p50'] / reference:.1f} x "
              f"| {r['queries']} | {r['status']} |")  # fmt: skip
    print("\nReport page weight (bytes): details step, then where step")
    for name, w in (("details", weight), ("where", where_weight)):
        print(f"  {name}: " + ", ".join(f"{k} {v:,}" for k, v in w.items()))
        total_raw = w["raw html"] + w["raw page assets"]
        total_gz = w["gzip html"] + w["gzip page assets"]
        print(f"  {name}: HTML+CSS+JS {total_raw:,} raw, {total_gz:,} gzip (goal < 150 kB)")
    print(f"\npeak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
