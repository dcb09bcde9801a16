"""Reads of the experience app: surveys as the faces show them (no contact details)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from townhall.catalog.i18n import localized
from townhall.experience.models import Survey
from townhall.notify.links import survey_url
from townhall.notify.selectors import surveys_declined

# notify.links.survey_token: 20 bytes of HMAC in lower-case base32 without padding.
_TOKEN = re.compile(r"[a-z2-7]{32}")


@dataclass(frozen=True)
class SurveyPage:
    """What the survey page of one case shows: nothing about the resident."""

    survey_id: int
    reference: str
    service: str
    language: str
    ask_nps: bool
    answered: bool


@dataclass(frozen=True)
class OpenSurvey:
    """An unanswered survey listed on its resident's account page."""

    reference: str
    service: str
    url: str
    sent_at: datetime


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of a survey link's token, as `Survey.token_hash` stores it."""
    return hashlib.sha256(token.encode()).hexdigest()


def survey_by_token(token: str) -> Survey | None:
    """The survey a link's token opens, or None (junk tokens cost no query)."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None  # not one of ours: no query for junk
    return (
        Survey.objects.select_related("case__service_type").filter(token_hash=token_hash(token))
    ).first()


def language_offered(value: str | None) -> str:
    """One of the site's languages ("es-MX" is "es"), else the site's default."""
    base = (value or "").split("-")[0].lower()
    offered = [code.split("-")[0].lower() for code, _name in settings.LANGUAGES]
    if base in offered:
        return base
    return str(settings.LANGUAGE_CODE).split("-")[0].lower()


def survey_page(*, token: str) -> SurveyPage | None:
    """The survey a link's token opens, or None for a token that opens none (the caller
    answers the same whether the case exists or not)."""
    survey = survey_by_token(token)
    if survey is None:
        return None
    return SurveyPage(
        survey_id=survey.pk,
        reference=survey.case.reference,
        service=str(localized(survey.case.service_type, "name", survey.language)),
        language=language_offered(survey.language),
        ask_nps=survey.ask_nps,
        answered=survey.answered_at is not None,
    )


def surveys_open_for(*, citizen_id: int, case_ids: list[int]) -> list[OpenSurvey]:
    """The unanswered surveys of `citizen_id` among `case_ids` (the reports their account
    may show), newest first; none once they have opted out of surveys."""
    if not case_ids or survey_consent_withdrawn(citizen_id=citizen_id):
        return []
    rows = (
        Survey.objects.filter(citizen_id=citizen_id, case_id__in=case_ids, answered_at__isnull=True)
        .select_related("case__service_type")
        .order_by("-sent_at", "-pk")[:50]
    )
    return [
        OpenSurvey(
            reference=s.case.reference,
            service=str(localized(s.case.service_type, "name")),
            url=survey_url(case_id=s.case_id),
            sent_at=s.sent_at,
        )
        for s in rows
    ]


def survey_open_for_case(*, case_id: int) -> Survey | None:
    """The case's survey if it is still unanswered (and its resident has not opted out)."""
    survey = Survey.objects.filter(case_id=case_id, answered_at__isnull=True).first()
    if survey is None:
        return None
    if survey.citizen_id and survey_consent_withdrawn(citizen_id=survey.citizen_id):
        return None
    return survey


def survey_consent_withdrawn(*, citizen_id: int) -> bool:
    """Whether the resident's latest word on surveys is "no" (no word at all: asked)."""
    return surveys_declined(citizen_id=citizen_id)
