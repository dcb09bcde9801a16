"""Benchmark: the caseworker console on PostgreSQL with 1 M cases and 200 staff.

In-process (Django's test client: every middleware and template, no network), DEBUG off,
Redis cache, on the Open311 bench's database (`bench/open311.py` seeds it once:
1,000,000 cases over two years, 15 % open). This bench adds, once:

- 200 caseworkers spread over the demo town's 8 departments (members of theirs);
- due dates on every open case (opened + 5 days: most are long overdue, as seeded cases
  are up to two years old, so they are marked breached already) and four in five open
  cases assigned round robin to the department's caseworkers.

Then it measures, against the same process's `/healthz` (one `SELECT 1`) in the same run:

- a caseworker's queues (mine, team's unassigned, breached, all, a filtered one) and case
  pages of their department (different cases), p50 / p95 and queries;
- the council admin's "all" and "unassigned" queues (every department: 150 k open cases);
- the SLA breach scan over `--breach-rows` newly overdue cases, in seconds and rows/s,
  against one plain `UPDATE … SET breached_at` of the same rows (the floor for marking
  them), and put back afterwards so the bench can run again.

Goal (issue 6): queue page and case view p95 < 100 ms.

    python bench/console.py --help
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_open311"
STAFF = 200
BENCH_PASSWORD = os.environ.get("BENCH_STAFF_PASSWORD") or os.urandom(12).hex()


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--existing", type=int, default=1_000_000, help="cases already stored")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--breach-rows", type=int, default=5_000, help="cases the scan marks")
    parser.add_argument("--explain", action="store_true", help="print the queue's query plan")
    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, DEFAULT_URL, existing=500, requests=5, breach_rows=50)
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


def staff_and_load() -> None:
    """200 caseworkers in the departments, due dates and assignments on open cases (once)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rich.progress import track

    from townhall.catalog.models import Department, DepartmentMember
    from townhall.people.roles import StaffRole
    from townhall.people.services import staff_user_create

    user_model = get_user_model()
    departments = list(Department.objects.order_by("pk"))
    if user_model.objects.filter(username__startswith="bench.cw").count() < STAFF:
        from django.conf import settings

        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        for i in track(range(STAFF), description="creating 200 caseworkers"):
            username = f"bench.cw{i:03d}"
            if user_model.objects.filter(username=username).exists():
                continue
            user = staff_user_create(
                username=username, role=StaffRole.CASEWORKER, password=BENCH_PASSWORD
            )
            DepartmentMember.objects.get_or_create(
                department=departments[i % len(departments)], user=user
            )
    if not user_model.objects.filter(username="bench.admin").exists():
        staff_user_create(
            username="bench.admin", role=StaffRole.COUNCIL_ADMIN, password=BENCH_PASSWORD
        )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM cases_case WHERE status IN ('new','acknowledged','in_progress') "
            "AND due_at IS NULL"
        )
        if cur.fetchone()[0]:
            print("bench: due dates, breaches and assignments on the open cases …", flush=True)
            cur.execute(
                """
                WITH members AS (
                  SELECT m.department_id, m.user_id,
                         row_number() OVER (PARTITION BY m.department_id ORDER BY m.user_id) - 1 AS k,
                         count(*) OVER (PARTITION BY m.department_id) AS n
                  FROM catalog_departmentmember m JOIN auth_user u ON u.id = m.user_id
                  WHERE u.username LIKE 'bench.cw%')
                UPDATE cases_case c
                   SET due_at = c.opened_at + interval '5 days',
                       breached_at = CASE WHEN c.opened_at + interval '5 days' < now()
                                          THEN c.opened_at + interval '5 days' END,
                       assignee_id = CASE WHEN c.id % 5 = 0 THEN NULL ELSE (
                         SELECT user_id FROM members
                         WHERE members.department_id = c.department_id
                           AND members.k = (c.id / 5) % members.n) END
                 WHERE c.status IN ('new','acknowledged','in_progress') AND c.due_at IS NULL
                """
            )
            cur.execute("ANALYZE cases_case")


def vacuum() -> None:
    """Clear the dead rows the bench's own updates leave, as autovacuum would in time."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) cases_case")
        cur.execute("VACUUM (ANALYZE) cases_caseevent")


def timed(client: Any, urls: list[str], count: int) -> dict[str, Any]:
    import statistics

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, statuses, queries = [], set(), 0
    for i in range(count + 5):
        url = urls[i % len(urls)]
        connection.queries_log.clear()  # the log keeps 9,000 queries; count each page's own
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - start
        statuses.add(response.status_code)
        if i >= 5:  # the first few fill per-process caches
            times.append(elapsed * 1000)
            queries = max(queries, len(ctx.captured_queries))
    times.sort()
    return {
        "n": len(times),
        "p50": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        "queries": queries,
        "status": sorted(statuses),
    }


def breach_scan(rows: int) -> dict[str, float]:
    """Time the scan over `rows` newly overdue cases against one UPDATE of the same rows."""
    from django.db import connection, transaction

    from townhall.cases.services import case_sla_scan

    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT id FROM cases_case
             WHERE status IN ('new','acknowledged','in_progress') AND breached_at IS NOT NULL
             ORDER BY id LIMIT %s
            """,
            [rows],
        )
        ids = [r[0] for r in cur.fetchall()]
        cur.execute("UPDATE cases_case SET breached_at = NULL WHERE id = ANY(%s)", [ids])
    # the reference: mark them all in one statement, then undo it
    with transaction.atomic():
        with connection.cursor() as cur:
            start = time.perf_counter()
            cur.execute(
                "UPDATE cases_case SET breached_at = now() WHERE id = ANY(%s) AND breached_at IS NULL",
                [ids],
            )
            reference = time.perf_counter() - start
        transaction.set_rollback(True)
    start = time.perf_counter()
    marked = case_sla_scan()
    scan = time.perf_counter() - start
    # Put things back so the bench can run again: the bench's own database, so it may lift
    # the append-only trigger (cases migration 0014) for this one delete.
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("ALTER TABLE cases_caseevent DISABLE TRIGGER cases_caseevent_append_only")
        cur.execute(
            "DELETE FROM cases_caseevent WHERE case_id = ANY(%s) AND kind = 'sla_breached'", [ids]
        )
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending on the table
        cur.execute("ALTER TABLE cases_caseevent ENABLE TRIGGER cases_caseevent_append_only")
    return {"rows": len(ids), "marked": marked, "scan_s": scan, "reference_s": reference}


def main() -> int:
    args = parse_args()
    setup(args)
    staff_and_load()
    vacuum()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from townhall.cases.models import Case
    from townhall.catalog.models import DepartmentMember

    user_model = get_user_model()
    worker = user_model.objects.get(username="bench.cw000")
    department_id = DepartmentMember.objects.get(user=worker).department_id
    service = Case.objects.filter(department_id=department_id).values_list(
        "service_type__code", flat=True
    )[:1][0]
    sample = list(
        Case.objects.filter(department_id=department_id)
        .order_by("?")
        .values_list("pk", flat=True)[:50]
    )
    total = Case.objects.count()
    open_cases = Case.objects.filter(status__in=["new", "acknowledged", "in_progress"]).count()
    dept_open = Case.objects.filter(
        department_id=department_id, status__in=["new", "acknowledged", "in_progress"]
    ).count()
    mine = Case.objects.filter(
        assignee=worker, status__in=["new", "acknowledged", "in_progress"]
    ).count()

    caseworker, admin = Client(), Client()
    caseworker.force_login(worker)
    admin.force_login(user_model.objects.get(username="bench.admin"))
    n = args.requests
    pages = [
        ("/healthz (reference: one SELECT 1)", caseworker, ["/healthz"]),
        ("caseworker: my cases", caseworker, ["/console/queues/mine/"]),
        ("caseworker: team's unassigned", caseworker, ["/console/queues/unassigned/"]),
        ("caseworker: breached", caseworker, ["/console/queues/breached/"]),
        ("caseworker: all cases (newest first)", caseworker, ["/console/queues/all/"]),
        ("caseworker: filtered (service, oldest first)", caseworker,
         [f"/console/queues/all/?service={service}&sort=oldest"]),
        ("caseworker: a case page (50 different cases)", caseworker,
         [f"/console/cases/{pk}/" for pk in sample]),
        ("council admin: all cases", admin, ["/console/queues/all/"]),
        ("council admin: unassigned (every department)", admin, ["/console/queues/unassigned/"]),
    ]  # fmt: skip
    results = [(label, timed(client, urls, n)) for label, client, urls in pages]
    if args.explain:
        from townhall.cases.access import access_open_cases

        qs = access_open_cases(worker).filter(assignee__isnull=True).order_by("due_at", "pk")[:51]
        with connection.cursor() as cur:
            sql, params = qs.query.sql_with_params()
            cur.execute("EXPLAIN ANALYZE " + sql, params)
            print("\n".join(r[0] for r in cur.fetchall()))
    scan = breach_scan(args.breach_rows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\nbench/console.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL; {total:,} cases, "
          f"{open_cases:,} open; {STAFF} caseworkers; the caseworker's department has "
          f"{dept_open:,} open cases, {mine} of them theirs")  # fmt: skip
    reference = results[0][1]["p50"]
    print(
        "\n| page | n | p50 ms | p95 ms | p50 / reference | queries | status | goal p95 < 100 ms |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, r in results:
        goal = "" if label.startswith("/healthz") else ("met" if r["p95"] < 100 else "MISSED")
        print(f"| {label} | {r['n']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['p50'] / reference:.1f} x "
              f"| {r['queries']} | {r['status']} | {goal} |")  # fmt: skip
    rate = scan["marked"] / scan["scan_s"] if scan["scan_s"] else 0
    ref_rate = scan["rows"] / scan["reference_s"] if scan["reference_s"] else 0
    print(f"\nSLA breach scan: {scan['marked']:,} of {scan['rows']:,} overdue cases marked in "
          f"{scan['scan_s']:.2f} s ({rate:,.0f} rows/s), each with its event and escalation; "
          f"reference, one UPDATE of the same rows: {scan['reference_s'] * 1000:.1f} ms "
          f"({ref_rate:,.0f} rows/s); ratio {rate / ref_rate if ref_rate else 0:.4f}")  # fmt: skip
    print(f"peak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
