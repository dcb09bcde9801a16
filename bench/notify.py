"""Benchmark: fan-out of one alert to 100,000 subscribers, then delivery by 2 workers.

Enqueue: `alert_fan_out` (matching, rendering, one COPY per batch of 5,000), compared in the
same run with a raw multi-row INSERT of the same rows through the same connection (issue 19's
reference) and with a raw COPY of them (the floor of the fan-out's own way of writing). Delivery: two `townhall notify_send` processes against a fake provider that
appends to a file; messages/s until every row is sent. PostgreSQL only.

The delivery above does not go over HTTP. The HTTP transport is measured apart, in the same
run: --http-sends SMS sends through `HttpSmsGateway` to a loopback HTTP/1.1 server, with the
earlier `urllib_transport` (a connection per message) and the pooled `http_transport` (one
keep-alive httpx client per process), 4 threads each; --http-only runs just that part.

    python bench/notify.py --help
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench"


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-delivery", action="store_true")
    parser.add_argument(
        "--http-sends", type=int, default=4000, help="SMS sends per HTTP transport (0: none)"
    )
    parser.add_argument("--http-only", action="store_true", help="measure the HTTP transports only")
    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, DEFAULT_URL, subscribers=300, http_sends=200)
    return args


def self_signed(directory: Path) -> Path | None:
    """A key and certificate for 127.0.0.1 in `directory` (openssl), else None."""
    import shutil

    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    try:
        subprocess.run(  # noqa: S603 (fixed arguments)
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return directory


def http_transports_compare(sends: int, tls_dir: Path | None = None, threads: int = 4) -> None:
    """msg/s of SMS sends over loopback HTTP, urllib (before) against pooled httpx (after)."""
    import socket
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from townhall.notify.channels import HttpSmsGateway, OutgoingMessage, urllib_transport
    from townhall.notify.channels.http import http_transport

    connections = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            connections[0] += 1
            # As a real gateway's server does; without it, Nagle's algorithm and delayed ACKs
            # hold every answer on a kept-alive connection for 40 ms.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().setup()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = b'{"sid": "SM1", "status": "queued"}'
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    scheme = "http"
    if tls_dir is not None:
        # A certificate for 127.0.0.1 that the client trusts through SSL_CERT_FILE (set
        # before any SSL context is made), as a council's own CA would be.
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls_dir / "cert.pem", tls_dir / "key.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    base = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    rates = {}
    for name, transport in [("urllib", urllib_transport()), ("httpx pooled", http_transport())]:
        gateway = HttpSmsGateway(
            account_sid="AC1",
            auth_token="t",  # noqa: S106 (a loopback stand-in)
            from_number="+15550000000",
            base_url=base,
            transport=transport,
        )

        def work(n: int, gateway: HttpSmsGateway = gateway) -> None:
            for i in range(n):
                gateway.send(
                    OutgoingMessage(
                        key=f"k{i}",
                        channel="sms",
                        to="+15551234567",
                        subject="",
                        body="Water off 9am-noon.",
                    )
                )

        connections[0] = 0
        workers = [threading.Thread(target=work, args=(sends // threads,)) for _ in range(threads)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - t0
        done = sends // threads * threads
        rates[name] = done / elapsed
        print(
            f"{scheme} transport {name}: {done:,} SMS sends in {elapsed:.2f} s = {rates[name]:,.0f} msg/s "
            f"over {connections[0]:,} connection(s)"
        )
    server.shutdown()
    server.server_close()
    ratio = rates["httpx pooled"] / rates["urllib"]
    print(f"{scheme} transport ratio pooled/urllib: {ratio:.2f}")


def http_transports(sends: int) -> None:
    """Plain HTTP, then HTTPS (where openssl can make a certificate)."""
    from townhall.notify.channels.http import http_client_reset

    http_transports_compare(sends)
    with tempfile.TemporaryDirectory() as tmp:
        tls_dir = self_signed(Path(tmp))
        if tls_dir is None:
            print("https transport: skipped (no openssl to make a certificate)")
            return
        os.environ["SSL_CERT_FILE"] = str(tls_dir / "cert.pem")
        http_client_reset()  # its SSL context was made before SSL_CERT_FILE was set
        try:
            http_transports_compare(sends, tls_dir)
        finally:
            del os.environ["SSL_CERT_FILE"]
            http_client_reset()


def main() -> int:
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    if args.http_only:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
        import django

        django.setup()
        http_transports(args.http_sends)
        return 0
    from bench.case_open import ensure_database

    ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from psycopg.types.json import Json
    from rich.progress import Progress

    from townhall.notify.alerts import alert_fan_out, alert_publish
    from townhall.notify.channels.fakes import file_provider_received
    from townhall.notify.models import AlertSubscription, AlertTopic, Notification
    from townhall.people.models import Citizen, ContactPoint

    call_command("migrate", interactive=False, verbosity=0)
    topic, _ = AlertTopic.objects.get_or_create(code="bench", defaults={"name": "Benchmark"})
    have = AlertSubscription.objects.filter(topic=topic).count()
    if have < args.subscribers:
        with Progress() as progress:
            bar = progress.add_task(
                f"subscribing {args.subscribers - have:,} residents", total=args.subscribers - have
            )
            while have < args.subscribers:
                n = min(10_000, args.subscribers - have)
                citizens = Citizen.objects.bulk_create(
                    Citizen(display_name=f"Bench {have + i}") for i in range(n)
                )
                ContactPoint.objects.bulk_create(
                    ContactPoint(citizen=c, kind="email", value=f"bench{c.pk}@example.org")
                    for c in citizens
                )
                AlertSubscription.objects.bulk_create(
                    AlertSubscription(citizen=c, topic=topic, channel="email") for c in citizens
                )
                have += n
                progress.advance(bar, n)
    # Start from an empty outbox so both sides insert into the same table state.
    with connection.cursor() as cur:
        cur.execute("TRUNCATE notify_deliveryattempt, notify_notification")
    alert = alert_publish(topic=topic, title="Water main repair", message="Water off 9am-noon.")
    t0 = time.perf_counter()
    queued = alert_fan_out(alert_id=alert.pk)
    fan_out_s = time.perf_counter() - t0
    # The ceiling: the same rows, raw multi-row INSERTs of 5,000 through the same connection.
    # Every stored column (so a new field cannot break the reference), keys made unique.
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    rows = list(Notification.objects.values_list(*(f.attname for f in fields)))
    key_at = [f.attname for f in fields].index("key")
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        for i in range(0, len(rows), 5000):
            chunk = rows[i : i + 5000]
            values = ", ".join([placeholder] * len(chunk))
            params = [
                "raw:" + v if j == key_at else (Json(v) if isinstance(v, dict | list) else v)
                for r in chunk
                for j, v in enumerate(r)
            ]
            cur.execute(f"INSERT INTO notify_notification ({columns}) VALUES {values}", params)
    raw_s = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("DELETE FROM notify_notification WHERE key LIKE 'raw:%%'")
    # A second reference, since the fan-out itself COPYs on PostgreSQL: the same rows by one
    # raw COPY per 5,000 (the fan-out's floor: its matching and rendering are on top of it).
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        for i in range(0, len(rows), 5000):
            with cur.cursor.copy(f"COPY notify_notification ({columns}) FROM STDIN") as copy:
                for r in rows[i : i + 5000]:
                    copy.write_row(
                        [
                            "copy:" + v
                            if j == key_at
                            else (Json(v) if isinstance(v, dict | list) else v)
                            for j, v in enumerate(r)
                        ]
                    )
    copy_s = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("DELETE FROM notify_notification WHERE key LIKE 'copy:%%'")
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()} {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {connection.pg_version}"
    )
    print(
        f"fan-out: {queued:,} notifications queued in {fan_out_s:.2f} s = {queued / fan_out_s:,.0f} rows/s"
    )
    print(f"raw bulk INSERT of the same rows: {raw_s:.2f} s = {len(rows) / raw_s:,.0f} rows/s")
    print(f"ratio fan-out/raw: {(queued / fan_out_s) / (len(rows) / raw_s):.2f} (goal >= 0.80)")
    print(f"raw COPY of the same rows: {copy_s:.2f} s = {len(rows) / copy_s:,.0f} rows/s")
    print(f"ratio fan-out/raw COPY: {(queued / fan_out_s) / (len(rows) / copy_s):.2f}")
    print(
        f"max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    if args.http_sends:
        http_transports(args.http_sends)
    if args.skip_delivery:
        return 0
    connection.close()
    with tempfile.TemporaryDirectory() as tmp:
        provider = Path(tmp) / "provider.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
            "TOWNHALL_FAKE_PROVIDER_FILE": str(provider),
            "PYTHONPATH": str(ROOT),
        }
        t0 = time.perf_counter()
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "townhall",
                    "notify_send",
                    "--until-empty",
                    "--batch",
                    "200",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(args.workers)
        ]
        for w in workers:
            w.wait()
        deliver_s = time.perf_counter() - t0
        received = file_provider_received(provider)
    repeats = sum(n - 1 for n in Counter(received).values())
    sent = Notification.objects.filter(status="sent").count()
    print(
        f"delivery: {sent:,} sent by {args.workers} workers in {deliver_s:.1f} s = {sent / deliver_s:,.0f} msg/s; "
        f"provider received {len(received):,} requests, {repeats} repeated key(s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
