"""The storm (issue 19): a mix of what a busy day sends, at rising rates, on loopback.

The same topology as bench/faults.py (bench/topology.py: its own PostgreSQL and Redis,
gunicorn, two db_workers, the scheduler, a file as the provider) on ports 18751-18771.
An open-loop generator (threads, one request started every 1/rate seconds whether or not
the previous ones finished; latency counted from when a request was due, so a queue in
front of the server shows) sends, per 100 requests:

  20 portal reports with a photo (multipart, CSRF token from the form's page)
  25 Open311 POSTs, 25 Open311 GETs (the request list of a service)
  20 console queue reads (a signed-in caseworker's session)
  10 inbound e-mails (/hooks/email/inbound/, Basic auth with the inbound secret)

Per step: achieved rate, p50/p95/p99, errors by kind; at the end the highest rate held
with p95 < 200 ms and no error, and the peak memory of the server processes.

    python bench/surge.py                # 10, 20, 40, 80 req/s, 20 s each
    python bench/surge.py --smoke        # 5 and 10 req/s, 4 s each (make test)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.faults import open311_fields, setup_django
from bench.topology import Postgres, Redis, Townhall, machine, peak_rss_mb, port_free

PG_PORT, REDIS_PORT, WEB_PORT = 18751, 18761, 18771
INBOUND_SECRET = "surge-inbound-secret"  # noqa: S105 - a loopback bench's own secret
MIX = (("portal_report", 20), ("open311_post", 25), ("open311_get", 25), ("console_queue", 20),
       ("inbound_email", 10))  # fmt: skip
P95_TARGET_MS = 200


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="10,20,40,80", help="req/s steps (default 10,20,40,80)")
    parser.add_argument("--seconds", type=float, default=20, help="per step (default 20)")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--smoke", action="store_true", help="5 and 10 req/s, 4 s each")
    args = parser.parse_args()
    if args.smoke:
        args.rates, args.seconds = "5,10", 4
    return args


def jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 110, 130)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


class Client:
    """One httpx client per thread: its cookies (CSRF, the caseworker's session) kept."""

    def __init__(self, base: str, session: str, fields: dict[str, str], photo: bytes) -> None:
        import httpx

        self.http = httpx.Client(base_url=base, timeout=10, follow_redirects=False)
        self.http.cookies.set("sessionid", session, domain="127.0.0.1")
        self.fields, self.photo = fields, photo
        self.csrf = ""

    def _csrf(self) -> str:
        if not self.csrf:
            page = self.http.get(
                "/report/pothole/", params={"lat": self.fields["lat"], "long": self.fields["long"]}
            )
            found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            self.csrf = found.group(1) if found else ""
        return self.csrf

    def send(self, kind: str, n: int) -> int:
        http = self.http
        if kind == "portal_report":
            data = {"csrfmiddlewaretoken": self._csrf(), "description": f"surge report {n}",
                    "lat": self.fields["lat"], "long": self.fields["long"], "name": "Surge",
                    "email": f"s{n}@example.org",
                    **{k.replace("attribute[", "attribute_").rstrip("]"): v
                       for k, v in self.fields.items() if k.startswith("attribute[")}}  # fmt: skip
            files = {"photos": (f"p{n}.jpg", self.photo, "image/jpeg")}
            return http.post("/report/pothole/", data=data, files=files).status_code
        if kind == "open311_post":
            data = {**self.fields, "description": f"surge {n}", "email": f"o{n}@example.org"}
            return http.post("/open311/v2/requests.json", data=data).status_code
        if kind == "open311_get":
            return http.get(
                "/open311/v2/requests.json", params={"service_code": "pothole"}
            ).status_code
        if kind == "console_queue":
            return http.get("/console/queues/all/").status_code
        message = EmailMessage()
        message["From"] = f"Resident {n} <m{n}@example.org>"
        message["To"] = "reports@townhall.local"
        message["Subject"] = f"Broken streetlight {n}"
        message["Message-ID"] = make_msgid(domain="example.org")
        message.set_content("The streetlight outside number 12 has been out for a week.")
        return http.post(
            "/hooks/email/inbound/",
            content=message.as_bytes(),
            headers={"Content-Type": "message/rfc822"},
            auth=("inbound", INBOUND_SECRET),
        ).status_code


def step(rate: float, seconds: float, make_client: Any) -> dict[str, Any]:
    """One step of the open-loop generator at `rate` requests per second."""
    kinds = [k for k, w in MIX for _ in range(w)]
    rng = random.Random(int(rate))
    local = threading.local()
    results: list[tuple[str, float, str]] = []  # (kind, latency ms, outcome)
    lock = threading.Lock()

    def one(kind: str, n: int, due: float) -> None:
        if not hasattr(local, "client"):
            local.client = make_client()
        try:
            status = local.client.send(kind, n)
            outcome = str(status) if status >= 400 else "ok"
        except Exception as exc:  # timeouts, refused connections: counted by kind
            outcome = type(exc).__name__
        with lock:
            results.append((kind, (time.monotonic() - due) * 1000, outcome))

    started = time.monotonic()
    total = int(rate * seconds)
    with ThreadPoolExecutor(max_workers=min(256, max(16, int(rate * 2)))) as pool:
        for n in range(total):
            due = started + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, rng.choice(kinds), int(rate) * 100_000 + n, due)
    elapsed = time.monotonic() - started
    latencies = sorted(ms for _, ms, _ in results)

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    errors = Counter(f"{kind}:{outcome}" for kind, _, outcome in results if outcome != "ok")
    by_kind = {
        kind: round(sorted(ms for k, ms, _ in results if k == kind)[
            int(0.95 * sum(1 for k, _, _ in results if k == kind))
        ], 1)
        for kind, _ in MIX
        if any(k == kind for k, _, _ in results)
    }  # fmt: skip
    return {
        "rate": rate,
        "sent": total,
        "achieved": round(len(results) / elapsed, 1),
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "p95_by_kind": by_kind,
    }


def console_session() -> str:
    """A signed-in caseworker's session key (made here, used by every client)."""
    from django.test import Client as DjangoClient

    from townhall.catalog.models import Department
    from townhall.catalog.services import department_member_add
    from townhall.people.roles import StaffRole
    from townhall.people.services import staff_user_create

    user = staff_user_create(
        username="surge-caseworker",
        role=StaffRole.CASEWORKER,
        password="surge-pw-12345678",  # noqa: S106 - a loopback bench user
    )
    for department in Department.objects.all():
        department_member_add(department=department, user=user)
    client = DjangoClient()
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


def main() -> int:
    args = parse_args()
    for port in (PG_PORT, REDIS_PORT, WEB_PORT):
        if not port_free(port):
            print(f"port {port} is taken: another bench running?", file=sys.stderr)
            return 2
    base = Path(tempfile.mkdtemp(prefix="townhall-surge-"))
    pg, redis = Postgres(PG_PORT, base), Redis(REDIS_PORT, base)
    town: Townhall | None = None
    started = time.monotonic()
    try:
        pg.start()
        pg.create_database()
        redis.start()
        os.environ["TOWNHALL_INBOUND_EMAIL_SECRET"] = INBOUND_SECRET
        env = setup_django(pg, redis, base / "provider.log", base / "var")
        fields = open311_fields()
        session = console_session()
        town = Townhall(env=env, web_port=WEB_PORT, web_workers=args.web_workers, base=base)
        town.start_web()
        town.start_workers()
        photo = jpeg()
        base_url = f"http://127.0.0.1:{WEB_PORT}"
        print(f"surge bench: {machine()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
        print(f"gunicorn {args.web_workers} workers, 2 db_workers; mix "
              + ", ".join(f"{k} {w}%" for k, w in MIX)
              + f"; topology up in {time.monotonic() - started:.0f} s")  # fmt: skip
        # The first requests of each process (imports, connections) are not the storm's.
        warm = Client(base_url, session, fields, photo)
        for i in range(3 * args.web_workers):
            for kind, _ in MIX:
                warm.send(kind, i)
        alone = {}
        for kind, _ in MIX:
            times = []
            for i in range(5):
                t0 = time.monotonic()
                warm.send(kind, 900_000 + i)
                times.append((time.monotonic() - t0) * 1000)
            alone[kind] = round(sorted(times)[2], 1)
        print(f"one request at a time, median ms: {alone}")
        rows = []
        for rate in [float(r) for r in args.rates.split(",")]:
            row = step(rate, args.seconds, lambda: Client(base_url, session, fields, photo))
            rows.append(row)
            print(f"{rate:g} req/s: achieved {row['achieved']}/s, p50 {row['p50']} ms, "
                  f"p95 {row['p95']} ms, p99 {row['p99']} ms, errors {row['errors']} "
                  f"{row['error_kinds']}; p95 by kind {row['p95_by_kind']}")  # fmt: skip
            town.supervise()
        held = [r["rate"] for r in rows if r["p95"] < P95_TARGET_MS and r["errors"] == 0]
        # Saturated: the server no longer keeps up with the offered rate.
        saturated = [r["rate"] for r in rows if r["achieved"] < 0.9 * r["rate"]]
        web_mb, workers_mb = peak_rss_mb(town.web), max(peak_rss_mb(w) for w in town.workers)
        print()
        print("| req/s | achieved | p50 ms | p95 ms | p99 ms | errors |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            kinds = ", ".join(f"{k} {n}" for k, n in r["error_kinds"].items()) or "0"
            print(
                f"| {r['rate']:g} | {r['achieved']} | {r['p50']} | {r['p95']} | {r['p99']} | {kinds} |"
            )
        print(f"\nhighest rate held (p95 < {P95_TARGET_MS} ms, no error): "
              f"{max(held):g} req/s" if held else "\nhighest rate held: none of the steps")  # fmt: skip
        ceiling = max(r["achieved"] for r in rows)
        print(
            f"saturates at: {min(saturated):g} req/s offered (most served: {ceiling} req/s)"
            if saturated
            else "saturates at: above the last step"
        )
        print(
            f"peak memory: gunicorn {web_mb:.0f} MB (largest process), db_worker {workers_mb:.0f} MB"
        )
        if args.json:
            args.json.write_text(json.dumps({"rows": rows, "alone": alone, "web_mb": web_mb}))
        return 0
    finally:
        if town is not None:
            town.stop()
        redis.stop()
        pg.stop()
        if not os.environ.get("SURGE_KEEP"):
            import shutil

            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"kept {base}")


if __name__ == "__main__":
    sys.exit(main())
