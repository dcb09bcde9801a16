"""Public holidays of the council's country and subdivision, from the `holidays` package."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(country: str, subdivision: str, years: tuple[int, ...]) -> dict[date, str]:
    found = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    return {day: str(name) for day, name in sorted(found.items())}


def public_holidays(
    *, country: str, subdivision: str = "", years: Iterable[int], names: Iterable[str] = ()
) -> dict[date, str]:
    """Return {date: name} of the public holidays in `years`; only those whose name
    contains one of `names` (case-insensitive) when `names` is given; {} without a country.

    Raise ValueError if the package does not know the country or subdivision.
    """
    if not country:
        return {}
    try:
        found = _holidays(country.upper(), subdivision.upper(), tuple(sorted(set(years))))
    except NotImplementedError as exc:
        raise ValueError(f"Unknown country or subdivision: {country} {subdivision}") from exc
    wanted = [n.strip().lower() for n in names if n.strip()]
    if not wanted:
        return dict(found)
    return {day: name for day, name in found.items() if any(w in name.lower() for w in wanted)}
