"""Experience and insights settings (issue 18): surveys, the frustration index, roll-ups."""

from __future__ import annotations

from typing import NamedTuple

import environ


class ExperienceSettings(NamedTuple):
    # Share of survey invitations that also ask the NPS question (a sample, 0..1).
    nps_share: float  # TOWNHALL_SURVEY_NPS_SHARE
    # A CSAT at or below this opens a follow-up flag for the supervisor.
    low_score: int  # TOWNHALL_SURVEY_LOW_SCORE
    # How long after the resolution an SMS reply digit still answers the survey.
    sms_reply_days: int  # TOWNHALL_SURVEY_SMS_REPLY_DAYS
    # Frustration index (docs/frustration.md) at or above which the resident gets an
    # honest update and the case is flagged for the supervisor.
    frustration_threshold: float  # TOWNHALL_FRUSTRATION_THRESHOLD
    # At most one proactive update per case in this many days.
    frustration_update_days: int  # TOWNHALL_FRUSTRATION_UPDATE_DAYS


def experience_settings(env: environ.Env) -> ExperienceSettings:
    """The experience settings from the environment; ValueError for values out of range."""
    nps_share = env.float("TOWNHALL_SURVEY_NPS_SHARE", default=0.25)
    if not 0 <= nps_share <= 1:
        raise ValueError("TOWNHALL_SURVEY_NPS_SHARE must be between 0 and 1")
    low = env.int("TOWNHALL_SURVEY_LOW_SCORE", default=2)
    if not 1 <= low <= 5:
        raise ValueError("TOWNHALL_SURVEY_LOW_SCORE must be between 1 and 5")
    return ExperienceSettings(
        nps_share=nps_share,
        low_score=low,
        sms_reply_days=env.int("TOWNHALL_SURVEY_SMS_REPLY_DAYS", default=14),
        frustration_threshold=env.float("TOWNHALL_FRUSTRATION_THRESHOLD", default=1.0),
        frustration_update_days=env.int("TOWNHALL_FRUSTRATION_UPDATE_DAYS", default=7),
    )
