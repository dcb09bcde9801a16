"""Benchmark: export and erasure of one resident with 100 cases and 50 photos.

Seeds two identical residents through the services (each case opened by `case_open` with a
description and address, acknowledged so the outbox holds its notification, one inbound
e-mail per case kept as received, photos re-encoded and stored by `case_photos_add`),
among other residents' cases. Then, for the first resident, times `resident_export` (the
ZIP written to a temporary file) and `resident_erase`; the second resident is exported
and erased again under tracemalloc for the peak Python memory of each (tracing slows
Python, so times come from the untraced run). Afterwards `ledger_verify` must pass.

Runs on SQLite (a fresh file in a temporary folder) and, when BENCH_DATABASE_URL or
--database-url is given, on that PostgreSQL database too (created if missing, migrated,
never emptied: the two residents are new each run); each database in its own process.

    python bench/privacy.py --help
    python bench/privacy.py --smoke      # tiny sizes: what the test suite runs
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="PostgreSQL to run on as well as SQLite (default: BENCH_DATABASE_URL; empty: SQLite only)",
    )
    parser.add_argument("--cases", type=int, default=100, help="cases of the resident (100)")
    parser.add_argument("--photos", type=int, default=50, help="photos on those cases (50)")
    parser.add_argument(
        "--others", type=int, default=1000, help="other residents' cases around them (1000)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="5 cases, 3 photos, 20 others: a quick check"
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.cases, args.photos, args.others = 5, 3, 20
    return args


def _photo(seed: int) -> Any:
    """A camera-sized photo (1280x960, noisy so it does not compress away), cleaned."""
    from PIL import Image

    from townhall.cases.photos import photo_clean

    rnd = random.Random(seed)
    image = Image.frombytes("RGB", (320, 240), rnd.randbytes(320 * 240 * 3)).resize((1280, 960))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return photo_clean(out.getvalue(), filename="photo.jpg")


def seed_resident(label: str, phone: str, cases: int, photos: int, clean_photos: list[Any]) -> int:
    from townhall.cases.services import case_acknowledge_pending, case_open, case_photos_add
    from townhall.catalog.models import ServiceType
    from townhall.intake.models import InboundMessage
    from townhall.people.services import citizen_resolve

    citizen = citizen_resolve(name=f"Resident {label}", email=f"{label}@example.org", phone=phone)
    services = list(ServiceType.objects.filter(active=True).order_by("pk"))
    opened = []
    for i in range(cases):
        service = services[i % len(services)]
        case = case_open(
            service_type=service,
            channel="email",
            description=f"Report {i} by resident {label}: something is broken at my house",
            address=f"{i} Long Street",
            lat=42.36 + i / 1000,
            long=-71.09,
            reporter=citizen,
            answers_partial=True,
        )
        opened.append(case)
        InboundMessage.objects.create(
            channel="email",
            sender_email=f"{label}@example.org",
            sender_name=f"Resident {label}",
            citizen=citizen,
            subject=f"Report {i}",
            text=case.description,
            raw=f"From: Resident {label} <{label}@example.org>\n\n{case.description}",
            case=case,
            outcome="opened",
        )
    for n in range(photos):
        case_photos_add(case=opened[n % len(opened)], photos=[clean_photos[n % len(clean_photos)]])
    case_acknowledge_pending(limit=100_000)
    return int(citizen.pk)


def seed_others(count: int) -> None:
    from townhall.cases.services import case_open
    from townhall.catalog.models import ServiceType

    services = list(ServiceType.objects.filter(active=True).order_by("pk"))
    for i in range(count):
        case_open(
            service_type=services[i % len(services)],
            channel="web",
            description=f"Someone else's report {i}",
            lat=42.30,
            long=-71.05,
            answers_partial=True,
        )


def run_backend(args: argparse.Namespace, backend: str, var: str) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["TOWNHALL_VAR_DIR"] = var
    if backend == "postgres":
        sys.path.insert(0, str(ROOT))
        from bench.case_open import ensure_database

        ensure_database(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from townhall.cases.models import Case
    from townhall.cases.selectors import ledger_verify
    from townhall.catalog.models import ServiceType
    from townhall.catalog.services import catalog_import
    from townhall.demo.loader import town_spec
    from townhall.intake.privacy import resident_erase, resident_export

    call_command("migrate", interactive=False, verbosity=0)
    if not ServiceType.objects.exists():
        catalog_import(spec=town_spec())
    started = time.perf_counter()
    clean = [_photo(s) for s in range(min(args.photos, 10) or 1)]
    seed_others(args.others // 2)
    timed = seed_resident("alice", "617-555-0100", args.cases, args.photos, clean)
    seed_others(args.others - args.others // 2)
    traced = seed_resident("bruno", "617-555-0101", args.cases, args.photos, clean)
    seeded_s = time.perf_counter() - started

    out = Path(var) / "alice.zip"
    t0 = time.perf_counter()
    with out.open("wb") as handle:
        exported = resident_export(citizen_id=timed, out=handle, via="bench")
    export_s = time.perf_counter() - t0
    zip_bytes = out.stat().st_size
    t0 = time.perf_counter()
    erased = resident_erase(citizen_id=timed, via="bench")
    erase_s = time.perf_counter() - t0

    tracemalloc.start()
    with (Path(var) / "bruno.zip").open("wb") as handle:
        resident_export(citizen_id=traced, out=handle, via="bench")
    export_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    resident_erase(citizen_id=traced, via="bench")
    erase_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    checked, breaks = ledger_verify()
    if breaks:
        raise SystemExit(f"ledger verify found {len(breaks)} breaks after erasure")
    return {
        "backend": f"{connection.vendor} {_version(connection)}",
        "cases": exported.counts["cases"],
        "photos": exported.counts["photos"],
        "messages": exported.counts["messages"],
        "notifications": exported.counts["notifications"],
        "all_cases": Case.objects.count(),
        "seed_s": round(seeded_s, 1),
        "export_s": round(export_s, 3),
        "zip_mb": round(zip_bytes / 1e6, 1),
        "export_peak_mb": round(export_peak / 1e6, 1),
        "erase_s": round(erase_s, 3),
        "erase_peak_mb": round(erase_peak / 1e6, 1),
        "erased_cases": len(erased.case_ids),
        "events_verified": checked,
    }


def _version(connection: Any) -> str:
    if connection.vendor == "postgresql":
        return str(connection.pg_version // 10000)
    import sqlite3

    return sqlite3.sqlite_version


def main() -> int:
    args = parse_args()
    if args.backend:
        var = tempfile.mkdtemp(prefix="townhall-bench-privacy-")  # database, media, ZIPs
        try:
            print("RESULT " + json.dumps(run_backend(args, args.backend, var)), flush=True)
        finally:
            shutil.rmtree(var, ignore_errors=True)
        return 0
    backends = ["sqlite"] + (["postgres"] if args.database_url else [])
    print(
        f"privacy bench: {args.cases} cases, {args.photos} photos, {args.others} other cases; "
        f"{platform.machine()}, Python {platform.python_version()}"
    )
    passthrough = ["--smoke"] if args.smoke else []
    passthrough += [
        "--cases",
        str(args.cases),
        "--photos",
        str(args.photos),
        "--others",
        str(args.others),
        "--database-url",
        args.database_url,
    ]
    for backend in backends:
        done = subprocess.run(  # noqa: S603 (this script, our own arguments)
            [sys.executable, __file__, "--backend", backend, *passthrough],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if done.returncode != 0:
            print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
            return done.returncode
        line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
        r = json.loads(line[len("RESULT ") :])
        print(
            f"{r['backend']}: {r['cases']} cases, {r['photos']} photos, {r['messages']} messages, "
            f"{r['notifications']} notifications (of {r['all_cases']} cases; seeded in "
            f"{r['seed_s']} s)\n"
            f"  export {r['export_s']:.3f} s, ZIP {r['zip_mb']} MB, peak Python memory "
            f"{r['export_peak_mb']} MB\n"
            f"  erase  {r['erase_s']:.3f} s ({r['erased_cases']} cases kept), peak Python "
            f"memory {r['erase_peak_mb']} MB; ledger verify: {r['events_verified']} events, "
            "no breaks"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
