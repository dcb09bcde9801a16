"""Benchmark: a year of bin collections for 100,000 addresses, against naive references.

The addresses map to zones (Toronto's pattern: 8 zones, Tuesday to Friday, weeks A and B;
organics weekly, garbage and recycling on alternate weeks, garden waste in season,
Christmas trees in January) under Ontario's holidays with the "rest of the week slides"
rule. Measured in the same run:

  zone+fan-out   the zones' years computed once (townhall.waste.schedule), then every
                 address given its zone's year (a shared list) and, separately, every
                 (address, day, streams) row materialised, as an export would
  per-address    the naive loop: the same engine called once per address
                 (on --sample addresses, scaled up to all of them; labelled so)
  rrule          dateutil.rrule per address and stream over the same span, no holidays
                 (also on --sample addresses, scaled up)

    python bench/waste.py --help
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from dateutil import rrule

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from townhall.waste.public_holidays import public_holidays
from townhall.waste.schedule import (
    Collection,
    HolidayRule,
    Rule,
    Season,
    collections_between,
)


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--addresses", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument(
        "--sample", type=int, default=2000, help="addresses for the per-address references"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, addresses=500, sample=50, repeat=1)
    return args


def toronto_zones() -> dict[str, list[Rule]]:
    zones = {}
    for weekday, name in [(1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday")]:
        for phase in (0, 1):
            zones[f"{name}{phase + 1}"] = [
                Rule("organics", weekday),
                Rule("garbage", weekday, 2, phase),
                Rule("recycling", weekday, 2, 1 - phase),
                Rule("garden", weekday, 2, phase, Season((3, 10), (12, 10))),
                Rule("christmas_tree", weekday, 2, phase, Season((1, 1), (1, 31))),
            ]
    return zones


def best(repeat: int, run: object) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    args = parse_args()
    start, end = date(args.year, 1, 1), date(args.year, 12, 31)
    zones = toronto_zones()
    names = list(zones)
    rng = random.Random(7)
    address_zone = [names[rng.randrange(len(names))] for _ in range(args.addresses)]
    holidays = public_holidays(
        country="CA", subdivision="ON", years=range(args.year - 1, args.year + 2)
    )

    def zone_years() -> dict[str, list[Collection]]:
        return {
            zone: collections_between(
                rules, start, end, holidays=holidays, holiday_rule=HolidayRule.SLIDE_WEEK
            )
            for zone, rules in zones.items()
        }

    def fan_out() -> int:
        years = zone_years()
        per_address = [years[z] for z in address_zone]
        return sum(len(y) for y in per_address)

    def materialise() -> int:
        years = zone_years()
        rows = [(a, c.day, c.streams) for a, z in enumerate(address_zone) for c in years[z]]
        return len(rows)

    sample = address_zone[: args.sample]

    def per_address() -> int:
        return sum(
            len(
                collections_between(
                    zones[z], start, end, holidays=holidays, holiday_rule=HolidayRule.SLIDE_WEEK
                )
            )
            for z in sample
        )

    def with_rrule() -> int:
        count = 0
        for z in sample:
            days: set[date] = set()
            for r in zones[z]:
                first = datetime(args.year, 1, 1, tzinfo=UTC)
                for moment in rrule.rrule(
                    rrule.WEEKLY,
                    dtstart=first,
                    until=datetime(args.year, 12, 31, tzinfo=UTC),
                    byweekday=r.weekday,
                    interval=r.cycle_weeks,
                ):
                    if r.season.contains(moment.date()):
                        days.add(moment.date())
            count += len(days)
        return count

    t_fan, n_fan = best(args.repeat, fan_out)
    t_rows, n_rows = best(args.repeat, materialise)
    t_naive, n_naive = best(1, per_address)
    t_rrule, n_rrule = best(1, with_rrule)
    scale = args.addresses / max(len(sample), 1)
    naive_all, rrule_all = t_naive * scale, t_rrule * scale
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(
        f"{args.addresses:,} addresses in {len(zones)} zones, year {args.year}, "
        f"Ontario holidays, slide-week rule; best of {args.repeat}"
    )
    print(f"zone+fan-out (shared years): {t_fan:.3f} s  ({n_fan:,} address-collection days)")
    print(f"zone+fan-out (rows built):   {t_rows:.3f} s  ({n_rows:,} rows)")
    print(
        f"per-address engine loop:     {naive_all:.1f} s scaled from {len(sample):,} "
        f"addresses ({t_naive:.3f} s, {n_naive:,} days)"
    )
    print(
        f"per-address dateutil rrule:  {rrule_all:.1f} s scaled from {len(sample):,} "
        f"addresses ({t_rrule:.3f} s, {n_rrule:,} days, no holidays)"
    )
    print(
        f"ratio naive / zone+rows: {naive_all / t_rows:.0f}x; rrule / zone+rows: "
        f"{rrule_all / t_rows:.0f}x; target < 5 s: {'met' if t_rows < 5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
