"""Rolling-origin backtest of the demand model against seasonal-naive baselines.

Pure (no Django). At each cut-off the model sees only the days before it and forecasts the
next `horizon` days; the two baselines of the same run forecast the same days:

- naive-week: the same weekday of the last observed week;
- naive-year: the same weekday 52 weeks earlier (364 days; only with a year of history).

MAPE is the mean of |actual - forecast| / actual over the days with actual > 0: days with no
requests have no percentage error and are left out (their number is reported). Also given:
the MAPE of weekly totals (what staff planning uses), sMAPE over every day (0 when both are
0), MASE (scaled by the in-sample mean absolute weekly-seasonal difference) and the share
of days inside the 80 % and 95 % intervals.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from townhall.insights.forecast_model import (
    MIN_HISTORY_DAYS,
    WEEK,
    InsufficientHistory,
    ModelConfig,
    daily_series,
    forecast_series,
)

YEAR_LAG = 364


@dataclass
class _Pool:
    actual: list[np.ndarray] = field(default_factory=list)
    predicted: list[np.ndarray] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)

    def add(self, actual: np.ndarray, predicted: np.ndarray, scale: float) -> None:
        self.actual.append(actual)
        self.predicted.append(predicted)
        self.scale.append(scale)


@dataclass(frozen=True)
class Scores:
    mape: float  # percent, days with actual > 0
    weekly_mape: float  # percent, on 7-day totals
    smape: float  # percent, every day
    mase: float


@dataclass(frozen=True)
class BacktestResult:
    cutoffs: list[date]
    horizon: int
    days_scored: int
    zero_days: int  # days with no requests, left out of MAPE
    model: Scores
    naive_week: Scores
    naive_year: Scores | None  # None: under a year of history before the first cut-off
    coverage: dict[float, float]  # interval level -> share of actual days inside
    fit_seconds: float  # mean seconds for one forecast (fit + intervals)
    notes: list[str]

    @property
    def baseline_name(self) -> str:
        """The stronger seasonal-naive baseline (lower daily MAPE)."""
        if self.naive_year is not None and self.naive_year.mape < self.naive_week.mape:
            return "naive-year"
        return "naive-week"

    @property
    def baseline(self) -> Scores:
        if self.baseline_name == "naive-year" and self.naive_year is not None:
            return self.naive_year
        return self.naive_week

    def as_dict(self) -> dict[str, object]:
        def scores(s: Scores | None) -> dict[str, float] | None:
            if s is None:
                return None
            return {
                "mape": round(s.mape, 2),
                "weekly_mape": round(s.weekly_mape, 2),
                "smape": round(s.smape, 2),
                "mase": round(s.mase, 3),
            }

        return {
            "cutoffs": [d.isoformat() for d in self.cutoffs],
            "horizon_days": self.horizon,
            "days_scored": self.days_scored,
            "zero_days_left_out_of_mape": self.zero_days,
            "model": scores(self.model),
            "naive_week": scores(self.naive_week),
            "naive_year": scores(self.naive_year),
            "stronger_baseline": self.baseline_name,
            "interval_coverage": {f"{int(k * 100)}": round(v, 3) for k, v in self.coverage.items()},
            "fit_seconds": round(self.fit_seconds, 4),
            "notes": self.notes,
        }


def _scores(pool: _Pool, horizon: int) -> Scores:
    actual = np.concatenate(pool.actual)
    predicted = np.concatenate(pool.predicted)
    positive = actual > 0
    mape = (
        float(np.mean(np.abs(actual[positive] - predicted[positive]) / actual[positive]))
        if positive.any()
        else float("nan")
    )
    denominator = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(
        2 * np.abs(actual - predicted),
        denominator,
        out=np.zeros_like(actual),
        where=denominator > 0,
    )
    weekly_errors: list[float] = []
    mase_parts: list[float] = []
    for a, p, s in zip(pool.actual, pool.predicted, pool.scale, strict=True):
        full = len(a) // WEEK * WEEK
        wa = a[:full].reshape(-1, WEEK).sum(axis=1)
        wp = p[:full].reshape(-1, WEEK).sum(axis=1)
        ok = wa > 0
        weekly_errors += list(np.abs(wa[ok] - wp[ok]) / wa[ok])
        if s > 0:
            mase_parts.append(float(np.mean(np.abs(a - p))) / s)
    return Scores(
        mape=100 * mape,
        weekly_mape=100 * float(np.mean(weekly_errors)) if weekly_errors else float("nan"),
        smape=100 * float(np.mean(ratio)),
        mase=float(np.mean(mase_parts)) if mase_parts else float("nan"),
    )


def default_cutoffs(series: pd.Series, *, horizon: int, count: int, step: int) -> list[date]:
    """`count` cut-offs `step` days apart, the last one leaving `horizon` days to score."""
    last = series.index[-1] - pd.Timedelta(days=horizon - 1)
    found = [(last - pd.Timedelta(days=step * k)).date() for k in range(count)]
    first_allowed = (series.index[0] + pd.Timedelta(days=MIN_HISTORY_DAYS)).date()
    return sorted(d for d in found if d >= first_allowed)


def backtest(
    counts: pd.Series,
    *,
    horizon: int = 56,
    cutoffs: list[date] | None = None,
    count: int = 13,
    step: int = 28,
    holidays: Collection[date] = frozenset(),
    config: ModelConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
    intervals: bool = True,
) -> BacktestResult:
    """Score the model and both seasonal-naive baselines on the same cut-offs.

    `cutoffs`: first forecast days (default: `count` of them, `step` days apart, ending
    `horizon` days before the end of the series). Raise InsufficientHistory when no cut-off
    leaves 28 days of history before it and `horizon` days after it.
    """
    config = config or ModelConfig()
    series = daily_series(counts)
    chosen = cutoffs or default_cutoffs(series, horizon=horizon, count=count, step=step)
    start, end = series.index[0], series.index[-1]
    usable = [
        c
        for c in chosen
        if pd.Timestamp(c) - start >= pd.Timedelta(days=MIN_HISTORY_DAYS)
        and pd.Timestamp(c) + pd.Timedelta(days=horizon - 1) <= end
    ]
    if not usable:
        raise InsufficientHistory(
            f"Too little history to backtest: {len(series)} days; a cut-off needs "
            f"{MIN_HISTORY_DAYS} days before it and {horizon} days after it."
        )
    model, week, year = _Pool(), _Pool(), _Pool()
    year_ok = all(pd.Timestamp(c) - start >= pd.Timedelta(days=YEAR_LAG) for c in usable)
    inside = dict.fromkeys(config.levels, 0)
    zero_days = scored = 0
    seconds = 0.0
    seen: dict[str, int] = {}
    for i, cut in enumerate(usable):
        position = series.index.get_loc(pd.Timestamp(cut))
        assert isinstance(position, int)
        train = series.iloc[:position]
        actual = series.iloc[position : position + horizon].to_numpy()
        began = time.perf_counter()
        result = forecast_series(
            train, days=horizon, holidays=holidays, config=config, with_intervals=intervals
        )
        seconds += time.perf_counter() - began
        for note in result.notes:
            seen[note] = seen.get(note, 0) + 1
        predicted = np.array([d.mean for d in result.days])
        history = train.to_numpy()
        diffs = np.abs(history[WEEK:] - history[:-WEEK])
        scale = float(diffs.mean()) if len(diffs) else 0.0
        model.add(actual, predicted, scale)
        last_week = history[-WEEK:]
        week.add(actual, np.array([last_week[h % WEEK] for h in range(horizon)]), scale)
        if year_ok:
            year.add(
                actual,
                series.iloc[position - YEAR_LAG : position - YEAR_LAG + horizon].to_numpy(),
                scale,
            )
        for level in config.levels if intervals else ():
            low = np.array([d.intervals[level][0] for d in result.days])
            high = np.array([d.intervals[level][1] for d in result.days])
            inside[level] += int(np.sum((actual >= low) & (actual <= high)))
        zero_days += int(np.sum(actual == 0))
        scored += horizon
        if progress:
            progress(i + 1, len(usable))
    notes = [f"At {n} of {len(usable)} cut-offs: {note}" for note, n in seen.items()]
    if not year_ok:
        notes.append("naive-year left out: under 364 days of history before a cut-off.")
    return BacktestResult(
        cutoffs=usable,
        horizon=horizon,
        days_scored=scored,
        zero_days=zero_days,
        model=_scores(model, horizon),
        naive_week=_scores(week, horizon),
        naive_year=_scores(year, horizon) if year_ok else None,
        coverage={level: inside[level] / scored for level in config.levels} if intervals else {},
        fit_seconds=seconds / len(usable),
        notes=notes,
    )
