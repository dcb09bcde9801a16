"""Benchmark: bin days learnt from earlier published years, checked on a later one.

For each pair, the rules and the per-holiday policy are learnt from the earlier years of
the City of Toronto's published schedule (`townhall.waste.evaluation.schedule_evaluate`,
the same code as `townhall waste evaluate`), the later year is predicted from them alone
(no overrides) and compared collection by collection: a collection is a (zone, stream,
date) triple. "exact share" is the share of the published year's collections predicted
on the right date (recall); precision the share of predicted ones published. Every
difference is printed with the reason the policy gives.

Years: 2023 and 2024 from ../shared/data/waste_toronto, 2025 and 2026 shipped in
tests/waste/data/toronto (2026 has no Recycling column: the other streams are compared).
--smoke runs one pair on the three-zone excerpts in tests/waste/data.

    python bench/waste_years.py [--fallback slide_week] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from townhall.waste.evaluation import schedule_evaluate  # noqa: E402
from townhall.waste.public_holidays import public_holidays  # noqa: E402
from townhall.waste.schedule import HolidayRule  # noqa: E402
from townhall.waste.toronto import TorontoRow, toronto_read  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "waste_toronto"
SHIPPED = ROOT / "tests" / "waste" / "data"
PAIRS = [((2023,), 2024), ((2023, 2024), 2025), ((2024, 2025), 2026), ((2023, 2024, 2025), 2026)]


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=SHARED, help="folder with 2023, 2024")
    parser.add_argument(
        "--fallback",
        choices=[r.value for r in HolidayRule],
        help="what a holiday never seen on a collection day does (default: learnt)",
    )
    add_smoke(parser)
    return parser.parse_args()


def path_of(year: int, shared: Path, smoke: bool) -> Path:
    if smoke:
        return SHIPPED / f"toronto-{year}-excerpt.csv"
    found = shared / f"pickup-schedule-{year}.csv"
    return found if found.exists() else SHIPPED / "toronto" / f"pickup-schedule-{year}.csv"


def rows_of(path: Path) -> list[tuple[str, date, tuple[str, ...]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [
            (r.zone, r.day, r.streams) for _, r in toronto_read(handle) if isinstance(r, TorontoRow)
        ]


def main() -> None:
    args = parse_args()
    pairs = [((2023, 2024), 2025)] if args.smoke else PAIRS
    holidays = public_holidays(country="CA", subdivision="ON", years=range(2022, 2028))
    fallback = HolidayRule(args.fallback) if args.fallback else None
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"fallback: {args.fallback or 'learnt'}")
    for learn_years, target in pairs:
        learn = [r for y in learn_years for r in rows_of(path_of(y, args.shared, args.smoke))]
        actual = rows_of(path_of(target, args.shared, args.smoke))
        started = time.perf_counter()
        result = schedule_evaluate(learn, actual, holidays=holidays, fallback=fallback)
        took = time.perf_counter() - started
        name = "+".join(map(str, learn_years)) + f" -> {target}"
        print(f"\n[{name}] streams: {' '.join(result.streams)}")
        print(f"{name} published: {result.matched + result.missed}")
        print(f"{name} matched: {result.matched}")
        print(f"{name} missed: {result.missed}")
        print(f"{name} extra: {result.extra}")
        print(f"{name} precision: {result.precision:.4f}")
        print(f"{name} exact share: {100 * result.recall:.2f}%")
        print(f"{name} learn+predict seconds: {took:.2f}")
        for line in result.policy:
            print(f"  holiday {line}")
        for d in result.differences:
            print(f"  {d.kind:<6} {d.zone} {d.stream} {d.day.isoformat()} {d.day:%a}: {d.why}")


if __name__ == "__main__":
    main()
