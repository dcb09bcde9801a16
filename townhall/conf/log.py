"""Logging: one plain line per record on the console, or one JSON object per line.

Every record carries `request_id` (the HTTP request being served, townhall.ops.middleware)
and `task_id` (the background task a db_worker is running, townhall.ops.apps), or "-"
outside either: both come from context variables, so they follow the request or task
through threads and async code without being passed around.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import ImproperlyConfigured

LOG_FORMATS = ("plain", "json")

request_id_var: ContextVar[str] = ContextVar("townhall_request_id", default="-")
task_id_var: ContextVar[str] = ContextVar("townhall_task_id", default="-")


class ContextFilter(logging.Filter):
    """Put the current request's and task's ids on every record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.task_id = task_id_var.get()
        return True


def logging_config(*, level: str, fmt: str = "plain") -> dict[str, Any]:
    """LOGGING for Django: the root logger at `level`, database queries at WARNING.

    `fmt` is "plain" (readable lines, the default) or "json" (one object per line with
    time, level, logger, message, request_id and task_id: for a log shipper).
    """
    if fmt not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "townhall.conf.log.ContextFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
        },
    }
