"""Daily request counts straight from a council's export file, for measuring the forecast.

Pure (no Django): `townhall insights forecast --backtest --from-csv FILE --format nyc|boston`
and bench/forecast.py read history this way without importing it first.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# format -> (date column, service column, date format or None for ISO, holiday country/subdiv)
FORMATS: dict[str, tuple[str, str, str | None, tuple[str, str]]] = {
    "nyc": ("opendate", "complaint_type", None, ("US", "NY")),
    "boston": ("OPEN_DT", "TYPE", "%m/%d/%Y %I:%M:%S %p", ("US", "MA")),
}


class CsvProblem(ValueError):
    """The file cannot be read as the given format."""


def read_requests(path: Path, fmt: str) -> pd.DataFrame:
    """Return a frame of (day, service) per request from an export file."""
    if fmt not in FORMATS:
        raise CsvProblem(f"Unknown format {fmt!r}: use one of {', '.join(sorted(FORMATS))}.")
    date_col, service_col, date_format, _ = FORMATS[fmt]
    try:
        frame = pd.read_csv(path, usecols=[date_col, service_col], dtype=str)
    except FileNotFoundError as exc:
        raise CsvProblem(f"No such file: {path}") from exc
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CsvProblem(
            f"{path.name} is not a {fmt} export (needs columns {date_col}, {service_col})."
        ) from exc
    days = pd.to_datetime(frame[date_col], format=date_format, errors="coerce").dt.normalize()
    out = pd.DataFrame({"day": days, "service": frame[service_col].fillna("").str.strip()})
    out = out[out["day"].notna()]
    if out.empty:
        raise CsvProblem(f"{path.name} has no rows with a readable {date_col}.")
    return out


def daily_counts(requests: pd.DataFrame, *, service: str | None = None) -> pd.Series:
    """Return requests per day (all services, or the one named `service`)."""
    rows = requests if service is None else requests[requests["service"] == service]
    return rows.groupby("day").size().astype(float)


def top_services(requests: pd.DataFrame, n: int) -> list[str]:
    """Return the `n` services with the most requests, biggest first."""
    counts = requests[requests["service"] != ""]["service"].value_counts()
    return [str(s) for s in counts.index[:n]]
