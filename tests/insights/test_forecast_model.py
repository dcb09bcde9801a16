"""The demand model and its backtest on synthetic series whose truth is known."""

from __future__ import annotations

from datetime import date

import holidays as holiday_package
import numpy as np
import pandas as pd
import pytest

from townhall.insights.forecast_backtest import backtest
from townhall.insights.forecast_model import (
    InsufficientHistory,
    ModelConfig,
    daily_series,
    forecast_series,
    spikes,
)

WEEKLY = np.array([1.3, 1.2, 1.1, 1.0, 0.9, 0.35, 0.25])  # Monday .. Sunday
HOLIDAY_DIP = 0.2  # a public holiday brings a fifth of a usual day
HOLIDAYS = frozenset(holiday_package.country_holidays("US", subdiv="MA", years=range(2019, 2026)))


def simulated(days: int = 3 * 365, level: float = 80.0, seed: int = 1) -> pd.Series:
    """Poisson counts: weekly pattern x yearly wave x holiday dip."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2021-01-04", periods=days, freq="D")
    weekly = WEEKLY[index.day_of_week]
    yearly = 1 + 0.25 * np.cos(2 * np.pi * (index.day_of_year.to_numpy() - 30) / 365.25)
    dip = np.where([d.date() in HOLIDAYS for d in index], HOLIDAY_DIP, 1.0)
    return pd.Series(rng.poisson(level * weekly * yearly * dip).astype(float), index=index)


def test_recovers_weekly_pattern_and_holiday_dip() -> None:
    series = simulated()
    result = forecast_series(series, days=56, holidays=HOLIDAYS)
    means = pd.Series(
        [d.mean for d in result.days], index=pd.DatetimeIndex([d.day for d in result.days])
    )
    ordinary = means[[d.date() not in HOLIDAYS for d in means.index]]
    by_weekday = ordinary.groupby(ordinary.index.day_of_week).mean()
    ratios = by_weekday / by_weekday[0]
    assert np.allclose(ratios.to_numpy(), WEEKLY / WEEKLY[0], rtol=0.12)
    assert result.seasonality == "weekly+yearly"
    # 2024-02-19 (Presidents' Day, a Monday) is inside the horizon: about a fifth of a Monday.
    holiday = [d for d in result.days if d.day in HOLIDAYS and d.day.weekday() < 5]
    assert holiday
    for day in holiday:
        usual = by_weekday[day.day.weekday()]
        assert 0.1 < day.mean / usual < 0.35


def test_beats_seasonal_naive_in_the_same_run() -> None:
    result = backtest(simulated(), holidays=HOLIDAYS, count=6, step=28)
    assert result.naive_year is not None
    assert result.model.mape < result.naive_week.mape
    assert result.model.mape < result.naive_year.mape
    assert result.model.mase < result.baseline.mase


def test_without_holiday_terms_the_holiday_is_missed() -> None:
    """The holiday regressors do the work: without them the dip is not foreseen."""
    series = simulated()
    plain = forecast_series(
        series, days=56, holidays=HOLIDAYS, config=ModelConfig(holiday_terms=False)
    )
    holiday = next(d for d in plain.days if d.day in HOLIDAYS and d.day.weekday() < 5)
    full = forecast_series(series, days=56, holidays=HOLIDAYS)
    with_terms = next(d for d in full.days if d.day == holiday.day)
    assert with_terms.mean < 0.5 * holiday.mean


def test_intervals_cover_at_about_the_nominal_rate() -> None:
    result = backtest(simulated(seed=3), holidays=HOLIDAYS, count=12, step=28)
    assert 0.72 <= result.coverage[0.8] <= 0.9
    assert 0.9 <= result.coverage[0.95] <= 0.99


def test_intervals_are_ordered_and_not_negative() -> None:
    result = forecast_series(simulated(days=400, level=3.0), days=21, holidays=HOLIDAYS)
    for day in result.days:
        low80, high80 = day.intervals[0.8]
        low95, high95 = day.intervals[0.95]
        assert 0 <= low95 <= low80 <= day.mean <= high80 <= high95


def test_short_history_uses_weekly_seasonality_only() -> None:
    series = simulated(days=120)
    result = forecast_series(series, days=56, holidays=HOLIDAYS)
    assert result.seasonality.startswith("weekly only")
    assert any("yearly seasonality is left out" in n for n in result.notes)
    monday = np.mean([d.mean for d in result.days if d.day.weekday() == 0])
    sunday = np.mean([d.mean for d in result.days if d.day.weekday() == 6])
    assert monday > 3 * sunday
    backtested = backtest(series, holidays=HOLIDAYS, horizon=14, count=3, step=14)
    assert backtested.naive_year is None
    assert any("naive-year left out" in n for n in backtested.notes)


@pytest.mark.parametrize("days", [0, 1, 27])
def test_too_little_history_is_refused(days: int) -> None:
    series = simulated(days=max(days, 1)).iloc[:days]
    with pytest.raises(InsufficientHistory):
        forecast_series(series, days=7)


def test_backtest_needs_room_after_the_cutoff() -> None:
    with pytest.raises(InsufficientHistory):
        backtest(simulated(days=60), horizon=56)


def test_zeros_and_gaps() -> None:
    """Missing days count as zero; an all-zero service forecasts zero without warnings."""
    gappy = simulated(days=200).iloc[::2]
    assert len(daily_series(gappy)) == 199
    assert daily_series(gappy).iloc[1] == 0
    zeros = pd.Series(0.0, index=pd.date_range("2024-01-01", periods=90, freq="D"))
    result = forecast_series(zeros, days=14)
    assert all(d.mean == 0 and d.intervals[0.95] == (0.0, 0.0) for d in result.days)
    scored = backtest(zeros, horizon=14, count=2, step=14)
    assert scored.zero_days == scored.days_scored
    assert np.isnan(scored.model.mape)  # no day has a percentage error


def test_bad_counts_are_refused() -> None:
    series = simulated(days=60)
    series.iloc[3] = -1
    with pytest.raises(ValueError, match="not negative"):
        forecast_series(series, days=7)
    series.iloc[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        forecast_series(series, days=7)
    with pytest.raises(ValueError, match="horizon"):
        forecast_series(simulated(days=60), days=0)


def test_flags_the_week_after_christmas() -> None:
    """A service with a rush after Christmas (a billing round): the week is flagged."""
    series = simulated(days=3 * 365 + 30)
    rush = [(d.month == 12 and d.day >= 27) or (d.month == 1 and d.day <= 2) for d in series.index]
    series = series * np.where(rush, 2.5, 1.0)
    cut = series[: pd.Timestamp("2023-12-17")]
    result = forecast_series(cut, days=28, holidays=HOLIDAYS)
    found = spikes(result, cut)
    rush_week = [s for s in found if s.start <= date(2023, 12, 28) <= s.end]
    assert rush_week and rush_week[0].increase > 0.3
    # The late-January seasonal high is flagged too, but the rush is the biggest.
    assert max(found, key=lambda s: s.increase) is rush_week[0]
