"""Benchmark: the demand forecast against seasonal-naive, rolling origin, same run.

For NYC Council constituent services (all complaints, then the top 3 complaint types) and
Boston 311 2015 (all, then the top 3 types), the series is cut at several origins; at each
the model (`townhall.insights.forecast_model`, the code `townhall insights forecast` runs)
sees only the days before and forecasts the next 8 weeks, beside two baselines of the same
run: naive-week (the last week repeated) and naive-year (the same weekday 52 weeks before).
Printed: MAPE (days with requests), MAPE of weekly totals, MASE, interval coverage, mean
seconds per forecast (fit plus interval calibration), peak memory, machine and date.

NYC is cut at 2023-11-30: from December 2023 the export collapses (821 requests that month
against 1,945 a year before, then 60 by March 2024), so later days are not demand.
Held-out cut-offs: the last 13 four-weekly origins before the end (Nov 2022 - Oct 2023
for NYC). `--tune` scores a grid of model settings on 2017-2019 origins only (NYC) and
prints the best; the defaults in ModelConfig came from that.

    python bench/forecast.py [--tune] [--smoke]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import resource
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from townhall.insights.forecast_backtest import BacktestResult, backtest  # noqa: E402
from townhall.insights.forecast_csv import (  # noqa: E402
    FORMATS,
    daily_counts,
    read_requests,
    top_services,
)
from townhall.insights.forecast_model import (  # noqa: E402
    ModelConfig,
    forecast_series,
    with_config,
)
from townhall.waste.public_holidays import public_holidays  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
NYC = SHARED / "nyc_council_constituent_services" / "nycomplaints_councilstat_2015_2025.csv"
BOSTON = SHARED / "311_boston_2015_cases" / "boston_311_2015_cases.csv"
NYC_END = "2023-11-30"


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nyc", type=Path, default=NYC)
    parser.add_argument("--boston", type=Path, default=BOSTON)
    parser.add_argument("--top", type=int, default=3, help="service types per city")
    parser.add_argument("--tune", action="store_true", help="grid on 2017-2019 origins")
    add_smoke(parser)
    return parser.parse_args()


def holidays_for(fmt: str) -> frozenset[date]:
    country, subdivision = FORMATS[fmt][3]
    return frozenset(
        public_holidays(country=country, subdivision=subdivision, years=range(2010, 2031))
    )


def row(label: str, result: BacktestResult) -> str:
    year = f"{result.naive_year.mape:7.1f}" if result.naive_year else "      -"
    cover = " / ".join(f"{100 * v:4.1f}" for v in result.coverage.values())
    return (
        f"{label[:34]:34} {result.model.mape:6.1f} {result.naive_week.mape:7.1f} {year} "
        f"{result.model.weekly_mape:6.1f} {result.baseline.weekly_mape:6.1f} "
        f"{result.model.mase:5.2f} {result.baseline.mase:5.2f} {cover:>11} "
        f"{result.zero_days:5d} {1000 * result.fit_seconds:6.0f}"
    )


HEADER = (
    f"{'series':34} {'MAPE':>6} {'n-week':>7} {'n-year':>7} {'wMAPE':>6} {'wbase':>6} "
    f"{'MASE':>5} {'base':>5} {'cover80/95':>11} {'zeros':>5} {'ms/fit':>6}"
)


def synthetic(days: int = 3 * 365) -> pd.Series:
    rng = np.random.default_rng(7)
    index = pd.date_range("2021-01-01", periods=days, freq="D")
    weekly = np.array([1.2, 1.1, 1.0, 1.0, 0.9, 0.4, 0.3])[index.day_of_week]
    yearly = 1 + 0.3 * np.sin(2 * np.pi * index.day_of_year.to_numpy() / 365.25)
    return pd.Series(rng.poisson(60 * weekly * yearly).astype(float), index=index)


def tune(requests: pd.DataFrame, holidays: frozenset[date]) -> None:
    series = [daily_counts(requests)] + [
        daily_counts(requests, service=s) for s in top_services(requests, 2)
    ]
    cutoffs = [d.date() for d in pd.date_range("2017-01-06", "2019-10-31", freq="56D")]
    grid = itertools.product(
        [0, 2, 4, 8], [60.0, 180.0, 365.0, None], [730, 1460], ["mean", "median"], [True, False]
    )
    scored = []
    for terms, halflife, window, point, hol in grid:
        config = with_config(
            ModelConfig(),
            yearly_terms=terms,
            halflife_days=halflife,
            window_days=window,
            point=point,
            holiday_terms=hol,
        )
        results = [
            backtest(s, cutoffs=cutoffs, holidays=holidays, config=config, intervals=False)
            for s in series
        ]
        mape = float(np.mean([r.model.mape for r in results]))
        weekly = float(np.mean([r.model.weekly_mape for r in results]))
        scored.append((mape, weekly, terms, halflife, window, point, hol))
    scored.sort(key=lambda x: (x[0], x[1]))
    print(f"tuning: {len(cutoffs)} origins 2017-01-06..2019-10-31, NYC all + top 2 types")
    print("MAPE  wMAPE  yearly_terms halflife window point holidays")
    for line in scored[:10] + scored[-3:]:
        print(f"{line[0]:5.1f} {line[1]:6.1f}  {line[2:]}")


def main() -> None:
    args = parse_args()
    load = os.getloadavg()
    print(
        f"# forecast bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load {load[0]:.1f}, Python {platform.python_version()}"
    )
    began = time.perf_counter()
    if args.smoke:
        print(HEADER)
        print(row("synthetic (smoke)", backtest(synthetic(), count=3, step=28)))
    else:
        nyc = read_requests(args.nyc, "nyc")
        nyc = nyc[nyc["day"] <= pd.Timestamp(NYC_END)]
        if args.tune:
            tune(nyc, holidays_for("nyc"))
            return
        print(HEADER)
        for fmt, requests in (("nyc", nyc), ("boston", read_requests(args.boston, "boston"))):
            holidays = holidays_for(fmt)
            names = [None, *top_services(requests, args.top)]
            for name in names:
                series = daily_counts(requests, service=name)
                result = backtest(series, holidays=holidays)
                print(row(f"{fmt}: {name or 'all'}", result))
                for note in result.notes:
                    print(f"    note: {note}")
    if not args.smoke:
        requests = nyc
        names = top_services(requests, 10_000)
        holidays = holidays_for("nyc")
        every = [daily_counts(requests, service=name) for name in [None, *names]]
        every = [s for s in every if len(s) and (s.index[-1] - s.index[0]).days >= 28]
        began_all = time.perf_counter()
        for series in every:
            forecast_series(series, days=56, holidays=holidays)
        print(
            f"Forecast (8 weeks, 80/95 % intervals) of NYC all + every complaint type: "
            f"{len(every)} series in {time.perf_counter() - began_all:.2f} s "
            f"(load {os.getloadavg()[0]:.1f})."
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"MAPE: % over days with requests; n-week / n-year: seasonal-naive MAPE of the same "
        f"run; wMAPE/wbase: weekly totals, model / stronger baseline. "
        f"Total {time.perf_counter() - began:.1f} s, peak RSS {peak_mb:.0f} MB."
    )


if __name__ == "__main__":
    main()
