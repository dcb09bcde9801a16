"""Benchmark: the intake pipeline end to end, e-mail webhook → case, on PostgreSQL.

In-process (Django's test client: the whole middleware stack, the signature check, MIME
parsing, identity resolution, triage with the demo's classifier, duplicate search on the
table, the case with its event), on the Open311 bench's database (`bench/open311.py`
seeds it once: 1,000,000 cases, 15 % open). Measured in the same run, one after another:

- reference: `case_open` called directly with the same service, text and point (the
  domain write every door ends in, without intake);
- the e-mail webhook with a plain-text report from a new sender (new citizen, new case);
- the same with a 1-megapixel JPEG attached (the photo is checked, stripped and stored);
- a reply quoting a case reference (threaded onto the case as a note);
- an out-of-office auto-reply (kept, recognised, ignored);
- an Open311 POST (the same pipeline behind the GeoReport API).

For each: messages/s (one client, sequential), p50/p95/p99 server time, queries per
message; the peak memory of the process.

    python bench/intake.py --help
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_open311"
SECRET = "bench-inbound-secret"  # noqa: S105 - a bench-only shared secret


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--existing", type=int, default=1_000_000, help="cases already stored")
    parser.add_argument("--messages", type=int, default=300, help="timed messages per variant")
    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, DEFAULT_URL, existing=500, messages=10)
    return args


def setup(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_portal"
    os.environ["TOWNHALL_INBOUND_EMAIL_SECRET"] = SECRET
    os.environ["TOWNHALL_INTAKE_RATE_LIMIT_PER_HOUR"] = "1000000"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from bench.open311 import ensure_database

    ensure_database(args.database_url)
    import django

    django.setup()
    from bench.open311 import seed

    seed(args.existing)


def mail(i: int, *, subject: str, body: str, headers: dict[str, str] | None = None,
         photo: bytes | None = None, sender: str | None = None) -> bytes:  # fmt: skip
    msg = EmailMessage()
    msg["From"] = sender or f"Resident {i} <bench-{time.time_ns()}-{i}@example.org>"
    msg["To"] = "reports@millbrook.example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="bench.example.org")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if photo is not None:
        msg.add_attachment(photo, maintype="image", subtype="jpeg", filename="hole.jpg")
    return msg.as_bytes()


def photo_bytes() -> bytes:
    import io

    from PIL import Image

    image = Image.effect_noise((1200, 900), 60).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def timed(count: int, run: Callable[[int], Any]) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times: list[float] = []
    queries = 0
    outcomes: set[str] = set()
    for i in range(count + 5):
        connection.queries_log.clear()  # a full log would count nothing
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            outcome = run(i)
            elapsed = time.perf_counter() - start
        if i >= 5:  # the first few fill per-process caches (catalogue, classifier)
            times.append(elapsed * 1000)
            queries = max(queries, len(ctx.captured_queries))
            outcomes.add(str(outcome))
    times.sort()
    return {
        "n": len(times),
        "rate": 1000 / statistics.mean(times),
        "p50": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        "p99": times[int(len(times) * 0.99) - 1],
        "queries": queries,
        "outcomes": sorted(outcomes),
    }


def main() -> int:
    args = parse_args()
    setup(args)
    from django.test import Client

    from townhall.cases.models import Case
    from townhall.cases.services import case_open
    from townhall.catalog.models import ServiceType
    from townhall.intake.demo_triage import demo_triage_train
    from townhall.intake.models import InboundMessage, TriageModel
    from townhall.notify.channels.webhook import webhook_signature
    from townhall.people.services import citizen_resolve

    if not TriageModel.objects.filter(active=True).exists():
        demo_triage_train()
    client = Client()
    pothole = ServiceType.objects.get(code="pothole")
    total = Case.objects.count()
    thread = Case.objects.filter(status="in_progress").order_by("id").first()
    assert thread is not None
    photo = photo_bytes()
    text = "There is a deep pothole outside {i} Main Street, cars swerve round it."

    def post(raw: bytes) -> str:
        now = int(time.time())
        response = client.post(
            "/hooks/email/inbound/",
            raw,
            content_type="message/rfc822",
            HTTP_X_TOWNHALL_TIMESTAMP=str(now),
            HTTP_X_TOWNHALL_SIGNATURE=webhook_signature(secret=SECRET, timestamp=now, body=raw),
        )
        assert response.status_code == 200, response.content
        return str(response.json()["outcome"])

    def reference(i: int) -> str:
        reporter = citizen_resolve(email=f"ref-{time.time_ns()}-{i}@example.org")
        case_open(
            service_type=pothole,
            channel="email",
            description=text.format(i=i),
            reporter=reporter,
            answers_partial=True,
        )
        return "opened"

    from townhall.open311.keys import api_key_issue

    _key, api_key = api_key_issue(name="bench-intake", requests_per_minute=10**9)

    def open311(i: int) -> str:
        response = client.post(
            "/open311/v2/requests.json",
            {
                "service_code": "pothole",
                "lat": 42.355 + (i % 50) / 10_000,
                "long": -71.095,
                "description": text.format(i=i),
                "email": f"o311-{time.time_ns()}@example.org",
                "attribute[size]": "large",
                "api_key": api_key,
            },
        )
        assert response.status_code == 200, response.content
        return "opened"

    n = args.messages
    variants: list[tuple[str, int, Callable[[int], Any]]] = [
        ("reference: case_open directly (new resident, no intake)", n, reference),
        ("e-mail webhook → new case (plain text, new resident)", n,
         lambda i: post(mail(i, subject="Pothole", body=text.format(i=i)))),
        ("e-mail webhook → new case with a 1 MP photo", max(n // 3, 20),
         lambda i: post(mail(i, subject="Pothole", body=text.format(i=i), photo=photo))),
        ("e-mail reply with a reference → note on the case", n,
         lambda i: post(mail(i, subject=f"Re: {thread.reference}", body=f"Still there ({i}).",
                             sender=f"thread-{i % 20}@example.org"))),
        ("out-of-office auto-reply → ignored", n,
         lambda i: post(mail(i, subject="Automatic reply: away", body="I am away.",
                             headers={"Auto-Submitted": "auto-replied"}))),
        ("Open311 POST → new case (the same pipeline)", n, open311),
    ]  # fmt: skip
    results = [(label, timed(count, fn)) for label, count, fn in variants]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nbench/intake.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL, "
          f"{total:,} cases, {InboundMessage.objects.count():,} inbound messages after the run")  # fmt: skip
    ref = results[0][1]["p50"]
    print(
        "\n| path | n | messages/s | p50 ms | p95 ms | p99 ms | p50 / reference | queries | outcome |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, r in results:
        print(f"| {label} | {r['n']} | {r['rate']:.0f} | {r['p50']:.2f} | {r['p95']:.2f} | "
              f"{r['p99']:.2f} | {r['p50'] / ref:.1f} x | {r['queries']} | {', '.join(r['outcomes'])} |")  # fmt: skip
    print(f"\npeak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
