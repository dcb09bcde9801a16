"""Privacy (issue 15): how long each kind of data is kept by default."""

from __future__ import annotations

import environ


def retention_defaults(env: environ.Env, *, staged_file_hours: int) -> dict[str, int]:
    """How long each kind of data is kept (0: forever): the defaults of the retention policy
    that council admins see and change in the admin (Intake, Retention policy)."""
    return {
        "raw_message_days": env.int("RETENTION_RAW_MESSAGE_DAYS", default=90),
        "attachment_days": env.int("RETENTION_ATTACHMENT_DAYS", default=365),
        "search_log_days": env.int("RETENTION_SEARCH_LOG_DAYS", default=180),
        "staged_file_hours": env.int("RETENTION_STAGED_FILE_HOURS", default=staged_file_hours),
        "closed_case_years": env.int("RETENTION_CLOSED_CASE_YEARS", default=3),
        "security_event_days": env.int("RETENTION_SECURITY_EVENT_DAYS", default=365),
    }
