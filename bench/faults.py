"""Proof under faults (issue 19): Open311 POSTs under load while, one per phase, a db_worker
is killed with SIGKILL, PostgreSQL restarts, and Redis stops and starts again.

Everything runs on loopback and is started here (bench/topology.py): a PostgreSQL cluster
of its own (initdb in a temporary folder, port 18750), a redis-server of its own (18760),
gunicorn (3 workers), two `townhall db_worker`, the scheduler, and a fake provider that
records every message it is handed (a file: it survives the kill). The client retries a
503, a 5xx or a connection error with the same request (the same marker in the
description: Open311 has no idempotency key), as a partner system would.

After each phase the outbox is drained and everything is counted end to end: every POST
answered 200 has exactly one case (by marker), every case exactly one acknowledgement
notification row, and the provider received each exactly once.

    python bench/faults.py            # 30 s of load per phase at 12 POST/s
    python bench/faults.py --smoke    # a few seconds per phase (make test)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.topology import Postgres, Redis, Townhall, machine, port_free

PG_PORT, REDIS_PORT, WEB_PORT = 18750, 18760, 18770
PHASES = ("worker_kill", "pg_restart", "redis_down")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="load per phase (default 30)")
    parser.add_argument("--rate", type=float, default=12, help="POSTs per second (default 12)")
    parser.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--lease", type=int, default=5, help="outbox lease seconds (default 5)")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help=f"which faults (default {','.join(PHASES)})"
    )
    parser.add_argument(
        "--drain", type=float, default=300, help="longest wait for the outbox (default 300 s)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--smoke", action="store_true", help="6 s per phase at 6 POST/s: checks it still runs"
    )
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rate, args.drain = 6, 6, 120
    return args


@dataclass
class Outcome:
    marker: str
    attempts: int = 0
    final: str = ""  # "200", or the last error when the client gave up
    errors: list[str] = field(default_factory=list)


@dataclass
class PhaseLog:
    name: str
    fault_at: float = 0.0
    events: list[tuple[float, str]] = field(default_factory=list)  # (time, "200" | error)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def post_once(url: str, body: bytes) -> str:
    """POST once; the status as text, or the kind of connection error."""
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - loopback
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return str(response.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return "timeout" if "timed out" in str(reason) else "connection"


def client_post(log: PhaseLog, url: str, fields: dict[str, str], marker: str) -> None:
    """POST until 200 (or 40 tries), retrying 503/5xx/connection errors with the same body."""
    body = urllib.parse.urlencode(fields).encode()
    outcome = Outcome(marker)
    for _ in range(40):
        outcome.attempts += 1
        status = post_once(url, body)
        with log.lock:
            log.events.append((time.monotonic(), status))
        if status == "200":
            outcome.final = "200"
            break
        outcome.errors.append(status)
        if status.startswith("4"):
            outcome.final = status
            break
        time.sleep(0.5)
    else:
        outcome.final = outcome.errors[-1]
    with log.lock:
        log.outcomes[marker] = outcome


def run_load(log: PhaseLog, args: argparse.Namespace, url: str, fields: dict[str, str],
             fault: Any) -> None:  # fmt: skip
    """Open loop: one POST every 1/rate seconds for `seconds`; `fault(t)` is called each
    tick with the seconds since the start."""
    started = time.monotonic()
    n = 0
    with ThreadPoolExecutor(max_workers=args.clients * 4) as pool:
        while (elapsed := time.monotonic() - started) < args.seconds:
            fault(elapsed)
            due = started + n / args.rate
            if time.monotonic() < due:
                time.sleep(min(0.05, due - time.monotonic()))
                continue
            marker = f"fault-{log.name}-{n:05d}"
            data = {**fields, "description": marker, "email": f"r{n}.{log.name}@example.org"}
            pool.submit(client_post, log, url, data, marker)
            n += 1
        fault(args.seconds)


def count(log: PhaseLog, provider_file: Path, drain_seconds: float) -> dict[str, Any]:
    """Drain the outbox and count end to end."""
    from django.db import connections

    from townhall.cases.models import Case
    from townhall.notify.channels.fakes import file_provider_received
    from townhall.notify.models import Notification

    connections.close_all()
    prefix = f"fault-{log.name}-"
    ok = {m for m, o in log.outcomes.items() if o.final == "200"}
    drain_started = time.monotonic()
    while True:
        cases = list(
            Case.objects.filter(description__startswith=prefix).values_list("pk", "description")
        )
        notes = list(
            Notification.objects.filter(
                case_id__in=[pk for pk, _ in cases], kind="acknowledged"
            ).values_list("case_id", "key", "status", "attempts")
        )
        sent = sum(1 for _, _, status, _ in notes if status == "sent")
        if (sent >= len(cases) and len(notes) >= len(cases)) or (
            time.monotonic() - drain_started > drain_seconds
        ):
            break
        time.sleep(0.5)
    drained = time.monotonic() - drain_started
    received = Counter(file_provider_received(provider_file))
    by_marker = Counter(description for _, description in cases)
    notes_by_case = Counter(case_id for case_id, _, _, _ in notes)
    keys = {key for _, key, _, _ in notes}
    events = log.events
    statuses = Counter(status for _, status in events)
    failures = [t for t, s in events if s != "200" and t >= log.fault_at]
    recovery = 0.0
    if failures:
        last = max(failures)
        later = [t for t, s in events if s == "200" and t > last]
        recovery = (min(later) if later else last) - log.fault_at
    return {
        "phase": log.name,
        "posts": len(log.outcomes),
        "requests": len(events),
        "ok_200": statuses["200"],
        "503": statuses["503"],
        "errors": sum(n for s, n in statuses.items() if s not in {"200", "503"}),
        "error_kinds": dict(Counter(s for s in statuses.elements() if s not in {"200", "503"})),
        "gave_up": sum(1 for o in log.outcomes.values() if o.final != "200"),
        "cases": len(cases),
        "lost_cases": sum(1 for m in ok if by_marker[m] == 0),
        "doubled_cases": sum(1 for n in by_marker.values() if n > 1),
        "cases_without_200": sum(1 for m in by_marker if m not in ok),
        "lost_notifications": sum(1 for pk, _ in cases if notes_by_case[pk] == 0),
        "doubled_notifications": sum(1 for n in notes_by_case.values() if n > 1),
        "not_sent": sum(1 for _, _, status, _ in notes if status != "sent"),
        # Claimed more than once: a lease of the killed worker ran out and was taken over.
        "reclaimed": sum(1 for *_, attempts in notes if attempts > 1),
        "lost_at_provider": sum(1 for key in keys if received[key] == 0),
        "doubled_at_provider": sum(1 for key in keys if received[key] > 1),
        "recovery_s": round(recovery, 2),
        "drain_s": round(drained, 2),
    }


def phase_note(name: str, town: Townhall) -> str:
    if name == "worker_kill":
        return " (killed mid-batch)" if town.killed_busy else " (killed between batches)"
    return ""


def setup_django(pg: Postgres, redis: Redis, provider_file: Path, var: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings_faults",
        "DATABASE_URL": pg.url,
        "REDIS_URL": redis.url,
        "TOWNHALL_ENV": "development",
        "TOWNHALL_VAR_DIR": str(var),
        "TOWNHALL_FAKE_PROVIDER_FILE": str(provider_file),
        "NOTIFY_SWEEP_SECONDS": "2",
        "CASE_SWEEP_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return env


def open311_fields() -> dict[str, str]:
    from townhall.catalog.models import ServiceType
    from townhall.catalog.selectors import attribute_specs_for
    from townhall.catalog.services import catalog_import
    from townhall.demo.loader import town_spec
    from townhall.open311.keys import api_key_issue

    if not ServiceType.objects.exists():
        catalog_import(spec=town_spec())
    service = ServiceType.objects.get(code="pothole")
    answers = {
        f"attribute[{s.code}]": s.values[0]
        for s in attribute_specs_for(service_type=service)
        if s.required and s.values
    }
    _, secret = api_key_issue(name="faults", requests_per_minute=10**9)
    jurisdiction = service.jurisdiction if hasattr(service, "jurisdiction") else None
    centre = getattr(jurisdiction, "centre", None)
    lat, long = (centre.y, centre.x) if centre is not None else (42.36, -71.06)
    return {"api_key": secret, "service_code": service.code, "lat": str(lat),
            "long": str(long), **answers}  # fmt: skip


HEADERS = ("phase", "requests", "200s", "503s", "errors", "lost cases", "doubled cases",
           "lost notif.", "doubled notif.", "provider lost/doubled", "recovery s", "drain s")  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for r in rows:
        cells = [r["phase"], r["requests"], r["ok_200"], r["503"], r["errors"], r["lost_cases"],
                 r["doubled_cases"], r["lost_notifications"], r["doubled_notifications"],
                 f"{r['lost_at_provider']}/{r['doubled_at_provider']}", r["recovery_s"],
                 r["drain_s"]]  # fmt: skip
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    for port in (PG_PORT, REDIS_PORT, WEB_PORT):
        if not port_free(port):
            print(f"port {port} is taken: another bench running?", file=sys.stderr)
            return 2
    base = Path(tempfile.mkdtemp(prefix="townhall-faults-"))
    provider_file = base / "provider.log"
    pg, redis = Postgres(PG_PORT, base), Redis(REDIS_PORT, base)
    town: Townhall | None = None
    started = time.monotonic()
    try:
        pg.start()
        pg.create_database()
        redis.start()
        env = setup_django(pg, redis, provider_file, base / "var")
        env["NOTIFY_LEASE_SECONDS"] = str(args.lease)
        fields = open311_fields()
        town = Townhall(env=env, web_port=WEB_PORT, base=base)
        town.start_web()
        town.start_workers()
        url = f"http://127.0.0.1:{WEB_PORT}/open311/v2/requests.json"
        print(f"faults bench: {machine()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
        print(f"topology up in {time.monotonic() - started:.1f} s; {args.rate:g} POST/s, "
              f"{args.seconds:g} s per phase; outbox lease {args.lease} s")  # fmt: skip
        rows = []
        for name in args.phases.split(","):
            log = PhaseLog(name)
            third = args.seconds / 3
            done: set[str] = set()

            def fault(t: float, name: str = name, log: PhaseLog = log,
                      done: set[str] = done, third: float = third) -> None:  # fmt: skip
                assert town is not None
                if t >= third and "in" not in done:
                    done.add("in")
                    log.fault_at = time.monotonic()
                    # In the background: the load goes on while the fault happens.
                    action = {"worker_kill": town.kill_worker, "pg_restart": pg.restart,
                              "redis_down": redis.stop}[name]  # fmt: skip
                    threading.Thread(target=action, daemon=True).start()
                if name == "redis_down" and t >= 2 * third and "out" not in done:
                    done.add("out")
                    threading.Thread(target=redis.start, daemon=True).start()
                town.supervise()

            run_load(log, args, url, fields, fault)
            town.supervise()
            row = count(log, provider_file, drain_seconds=args.drain)
            rows.append(row)
            print(
                f"{name}: {row['requests']} requests, {row['ok_200']} ok, {row['503']} x 503, "
                f"{row['errors']} errors {row['error_kinds']}, lost cases {row['lost_cases']}, "
                f"lost notifications {row['lost_notifications']}, doubled notifications "
                f"{row['doubled_notifications']}, provider lost/doubled "
                f"{row['lost_at_provider']}/{row['doubled_at_provider']}, "
                f"recovery {row['recovery_s']} s, notifications claimed again after a lease "
                f"{row['reclaimed']}{phase_note(name, town)}"
            )
        print()
        print(table(rows))
        print(f"\nprocess restarts by the supervisor: {town.restarts}; "
              f"total {time.monotonic() - started:.0f} s")  # fmt: skip
        if args.json:
            args.json.write_text(json.dumps({"rows": rows, "restarts": town.restarts}, indent=2))
        bad = sum(r["lost_cases"] + r["lost_notifications"] + r["doubled_notifications"]
                  + r["lost_at_provider"] + r["not_sent"] for r in rows)  # fmt: skip
        doubled = sum(r["doubled_cases"] for r in rows)
        print(f"cases doubled by a client retry after an error whose commit had gone through: "
              f"{doubled}")  # fmt: skip
        print("end to end (each case: one acknowledgement, sent once): "
              + ("0 lost, 0 doubled" if bad == 0 else f"{bad} faults counted"))  # fmt: skip
        return 0 if bad == 0 else 1
    finally:
        if town is not None:
            town.stop()
        redis.stop()
        pg.stop()
        if not os.environ.get("FAULTS_KEEP"):
            import shutil

            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"kept {base}")


if __name__ == "__main__":
    sys.exit(main())
