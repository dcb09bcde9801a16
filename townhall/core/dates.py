"""Dates as residents read them, in the active language."""

from __future__ import annotations

import datetime as dt

from django.utils.formats import date_format


def long_date(value: dt.date | None) -> str:
    """'Saturday 28 November 2026', 'sábado 28 de noviembre de 2026'; '' for None."""
    if value is None:
        return ""
    return f"{date_format(value, 'l')} {date_format(value, 'DATE_FORMAT')}"
