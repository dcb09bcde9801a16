"""The demand model: a daily count series in, a daily forecast with intervals out.

Pure (no Django, no database). The model is a weighted least-squares regression on
log(1 + count) (numpy; statsmodels' WLS gives the same fit but took 0.1-0.2 s a fit on
this machine against under 1 ms, which matters when every service is fitted four times)
with:

- day-of-week terms (weekly seasonality);
- Fourier terms of the day of the year (yearly seasonality), only with a year of history;
- public-holiday terms: the holiday itself, the day before and after, the Christmas-to-New
  Year period and the first week of January;
- exponentially decaying weights (recent weeks count more), so the level follows the
  recent past without an extrapolated trend.

Intervals are empirical: the log-scale errors of the same model refitted at earlier cut-offs
inside the history and asked for the same horizon (out-of-sample errors, not the in-sample
residuals, which are too narrow). A column that never varies in the training data (a
holiday the history has not seen) is left out, i.e. its effect is taken as zero.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

WEEK = 7
YEAR_DAYS = 365.25
MIN_HISTORY_DAYS = 28  # four full weeks: one day-of-week estimate needs a few of each
LEVELS = (0.8, 0.95)


class InsufficientHistory(ValueError):
    """The series is too short (or empty) to forecast."""


@dataclass(frozen=True)
class ModelConfig:
    """The model's knobs (defaults chosen by the backtest on 2016–2019, docs/forecast.md)."""

    yearly_terms: int = 2  # Fourier pairs for yearly seasonality (0: none)
    halflife_days: float | None = 365.0  # weight halves every N days back (None: equal)
    window_days: int = 2 * 365  # history used for one fit
    holiday_terms: bool = True
    # The point forecast: "median" (exp of the log-scale fit) or "mean" (smearing-corrected).
    # The median won every measure in the tuning backtest, weekly totals included: the
    # smearing factor is inflated by the noisy low-count weekend days.
    point: str = "median"
    calibration_cutoffs: int = 3  # earlier cut-offs whose errors give the intervals
    levels: tuple[float, ...] = LEVELS


@dataclass(frozen=True)
class ForecastDay:
    day: date
    mean: float  # the point forecast (ModelConfig.point: the median by default)
    # {0.8: (lower, upper), 0.95: (lower, upper)}
    intervals: dict[float, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Forecast:
    days: list[ForecastDay]
    history_days: int
    seasonality: str  # "weekly+yearly" or "weekly only (history under a year)"
    notes: list[str] = field(default_factory=list)


def daily_series(counts: pd.Series) -> pd.Series:
    """Return `counts` (indexed by day) as a gap-free float series: missing days are 0.

    Raise InsufficientHistory for an empty series; ValueError for negative counts.
    """
    if counts.empty:
        raise InsufficientHistory("No history: there are no requests to forecast from.")
    index = pd.DatetimeIndex(pd.to_datetime(counts.index)).normalize()
    raw = np.asarray(counts, dtype=float)
    if not bool(np.isfinite(raw).all()) or bool((raw < 0).any()):
        raise ValueError("Daily counts must be finite and not negative.")
    values = pd.Series(raw, index=index).groupby(level=0).sum()
    full = pd.date_range(values.index.min(), values.index.max(), freq="D")
    return values.reindex(full, fill_value=0.0)


def _holiday_flags(days: pd.DatetimeIndex, holidays: Collection[date]) -> np.ndarray:
    """Columns: holiday, day before, day after, Dec 24–Jan 1 (not holiday), Jan 2–8."""
    known = np.array(sorted(holidays), dtype="datetime64[D]")
    as_days = days.to_numpy().astype("datetime64[D]")
    one = np.timedelta64(1, "D")
    hol = np.isin(as_days, known).astype(float)
    before = np.isin(as_days + one, known).astype(float)
    after = np.isin(as_days - one, known).astype(float)
    month, dom = days.month.to_numpy(), days.day.to_numpy()
    xmas = ((month == 12) & (dom >= 24)) | ((month == 1) & (dom == 1))
    january = (month == 1) & (dom >= 2) & (dom <= 8)
    return np.column_stack(
        [hol, before * (1 - hol), after * (1 - hol), xmas * (1 - hol), january * (1 - hol)]
    )


def design(
    days: pd.DatetimeIndex, *, yearly_terms: int, holidays: Collection[date] | None
) -> np.ndarray:
    """Return the regressors for `days`: intercept, weekday, Fourier and holiday columns."""
    weekday = days.day_of_week.to_numpy()
    columns = [np.ones(len(days))]
    columns += [(weekday == k).astype(float) for k in range(1, WEEK)]
    if yearly_terms:
        t = days.day_of_year.to_numpy() / YEAR_DAYS * 2 * np.pi
        for k in range(1, yearly_terms + 1):
            columns += [np.sin(k * t), np.cos(k * t)]
    matrix = np.column_stack(columns)
    if holidays is not None:
        matrix = np.column_stack([matrix, _holiday_flags(days, holidays)])
    return matrix


@dataclass(frozen=True)
class _Fit:
    params: np.ndarray
    keep: np.ndarray  # which design columns were used
    smear: float  # weighted mean of exp(residual): the log-model's mean correction
    yearly: bool


def _fit(history: pd.Series, config: ModelConfig, holidays: Collection[date]) -> _Fit:
    window = history.iloc[-config.window_days :]
    n = len(window)
    yearly = config.yearly_terms > 0 and n >= 365
    x = design(
        pd.DatetimeIndex(window.index),
        yearly_terms=config.yearly_terms if yearly else 0,
        holidays=holidays if config.holiday_terms else None,
    )
    # A column constant in the training data (other than the intercept) cannot be estimated.
    keep = np.ones(x.shape[1], dtype=bool)
    keep[1:] = x[:, 1:].std(axis=0) > 0
    x = x[:, keep]
    y = np.log1p(window.to_numpy())
    age = np.arange(n - 1, -1, -1, dtype=float)
    weights = 0.5 ** (age / config.halflife_days) if config.halflife_days else np.ones(n)
    # Weighted least squares by the normal equations (a 20 x 20 system: the columns are
    # dummies and sines, well scaled); lstsq gives the minimum-norm answer if two columns
    # coincide. Solving the full 730-row problem spun every BLAS thread of a busy machine
    # for a 20-column fit (0.1 s against 1 ms).
    weighted = x * weights[:, None]
    params = np.linalg.lstsq(weighted.T @ x, weighted.T @ y, rcond=None)[0]
    resid = y - x @ params
    smear = float(np.average(np.exp(resid), weights=weights))
    return _Fit(params=params, keep=keep, smear=smear, yearly=yearly)


def _predict_log(
    fit: _Fit, days: pd.DatetimeIndex, config: ModelConfig, holidays: Collection[date]
) -> np.ndarray:
    x = design(
        days,
        yearly_terms=config.yearly_terms if fit.yearly else 0,
        holidays=holidays if config.holiday_terms else None,
    )
    return np.asarray(x[:, fit.keep] @ fit.params, dtype=float)


def _calibration_errors(
    history: pd.Series, horizon: int, config: ModelConfig, holidays: Collection[date]
) -> np.ndarray:
    """Log-scale errors of the model refitted at earlier cut-offs, `horizon` days ahead."""
    errors: list[np.ndarray] = []
    for k in range(1, config.calibration_cutoffs + 1):
        cut = len(history) - k * horizon
        if cut < MIN_HISTORY_DAYS:
            break
        train, test = history.iloc[:cut], history.iloc[cut : cut + horizon]
        fit = _fit(train, config, holidays)
        predicted = _predict_log(fit, pd.DatetimeIndex(test.index), config, holidays)
        errors.append(np.log1p(test.to_numpy()) - predicted)
    return np.concatenate(errors) if errors else np.array([])


def forecast_series(
    counts: pd.Series,
    *,
    days: int = 56,
    holidays: Collection[date] = frozenset(),
    config: ModelConfig | None = None,
    with_intervals: bool = True,
) -> Forecast:
    """Forecast the `days` days after the last day of `counts` (a daily count series).

    `holidays`: the public holidays (dates) of the council, past and future.
    Raise InsufficientHistory with fewer than 28 days of history.
    """
    config = config or ModelConfig()
    if days < 1:
        raise ValueError("The horizon must be at least one day.")
    history = daily_series(counts)
    if len(history) < MIN_HISTORY_DAYS:
        raise InsufficientHistory(
            f"Too little history: {len(history)} days; at least {MIN_HISTORY_DAYS} are needed."
        )
    notes: list[str] = []
    fit = _fit(history, config, holidays)
    start = history.index[-1] + pd.Timedelta(days=1)
    future = pd.date_range(start, periods=days, freq="D")
    mu = _predict_log(fit, future, config, holidays)
    point = np.exp(mu) * (fit.smear if config.point == "mean" else 1.0) - 1.0
    point = np.maximum(point, 0.0)
    seasonality = "weekly+yearly" if fit.yearly else "weekly only (history under a year)"
    if not fit.yearly and config.yearly_terms:
        notes.append(
            "History under a year: yearly seasonality is left out, so season-driven "
            "changes (winter, summer, Christmas) are not foreseen."
        )
    intervals: list[dict[float, tuple[float, float]]] = [{} for _ in range(days)]
    if with_intervals:
        errors = _calibration_errors(history, days, config, holidays)
        if len(errors) < 2 * WEEK:
            # Too short for out-of-sample errors: in-sample residuals, widened by half.
            x_hist = design(
                pd.DatetimeIndex(history.index[-config.window_days :]),
                yearly_terms=config.yearly_terms if fit.yearly else 0,
                holidays=holidays if config.holiday_terms else None,
            )[:, fit.keep]
            window = history.iloc[-config.window_days :].to_numpy()
            errors = 1.5 * (np.log1p(window) - x_hist @ fit.params)
            notes.append("Intervals from in-sample residuals (history too short to calibrate).")
        for level in config.levels:
            tail = (1 - level) / 2
            low, high = np.quantile(errors, [tail, 1 - tail])
            lower = np.maximum(np.exp(mu + low) - 1.0, 0.0)
            upper = np.maximum(np.exp(mu + high) - 1.0, 0.0)
            for i in range(days):
                intervals[i][level] = (float(lower[i]), float(upper[i]))
    out = [
        ForecastDay(day=future[i].date(), mean=float(point[i]), intervals=intervals[i])
        for i in range(days)
    ]
    return Forecast(days=out, history_days=len(history), seasonality=seasonality, notes=notes)


def with_config(config: ModelConfig, **changes: object) -> ModelConfig:
    """Return `config` with `changes` (for tuning grids)."""
    return replace(config, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Spike:
    start: date
    end: date
    expected: float  # forecast requests in the period
    usual: float  # what a usual period of the same length brings (recent weeks)
    increase: float  # expected / usual - 1 (0.25 = +25 %)


def spikes(
    forecast: Forecast, history: pd.Series, *, threshold: float = 0.15, weeks_back: int = 8
) -> list[Spike]:
    """Return forecast weeks (7-day blocks from the first forecast day) whose expected volume
    exceeds the average week of the last `weeks_back` weeks by more than `threshold`."""
    series = daily_series(history)
    recent = series.iloc[-weeks_back * WEEK :]
    usual = float(recent.sum()) / max(len(recent) / WEEK, 1.0)
    found: list[Spike] = []
    for i in range(0, len(forecast.days) - WEEK + 1, WEEK):
        block: Sequence[ForecastDay] = forecast.days[i : i + WEEK]
        expected = sum(d.mean for d in block)
        if usual > 0 and expected > usual * (1 + threshold):
            found.append(
                Spike(
                    start=block[0].day,
                    end=block[-1].day,
                    expected=expected,
                    usual=usual,
                    increase=expected / usual - 1,
                )
            )
    return found
