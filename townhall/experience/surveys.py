"""Satisfaction surveys: owed when a case is resolved, answered once, on any channel.

- `survey_create` (from the "status_changed" case-event subscriber, in the event's
  transaction): one per case, for a reporter who has not withdrawn survey consent; NPS
  asked on a deterministic sample of cases (`nps_share`); in the reporter's language;
  `channel` is where it was asked (the assistant for a chat report, else how the
  resolution message reaches them: e-mail, SMS, or the portal when neither).
- `survey_answer` (the link's token), `survey_answer_for_case` (the chat, whose key names
  the case) and `survey_answer_by_sms` (a reply digit from the number the resolution
  SMS went to, within `sms_reply_days`) all end in `_answer`: validated, scored for tone,
  stored by one conditional UPDATE (a second answer, even at the same instant, is
  refused), and a low score or a strongly negative comment opens a LOW_SCORE flag.
- `survey_opt_out`: "don't ask me again" is a withdrawal of survey consent (people).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from townhall.cases.models import Case
from townhall.core.errors import DomainError, NotFound, ValidationFailed
from townhall.experience import selectors
from townhall.experience.flags import flag_raise
from townhall.experience.models import FlagKind, Survey
from townhall.experience.tone import frustration_score
from townhall.intake.normalise import text_clean
from townhall.notify.links import survey_token
from townhall.notify.models import NotifyChannel
from townhall.notify.selectors import notification_reach
from townhall.people.citizens import consent_record
from townhall.people.models import Channel, Citizen, ConsentPurpose, ContactKind, ContactPoint

log = logging.getLogger(__name__)

COMMENT_MAX = 2000
# A comment this frustrated (experience.tone, 0..1) opens a follow-up whatever the score.
COMMENT_FLAG_TONE = 0.75
# An SMS that is a digit 1-5, optionally followed by a comment ("2 still broken").
_SMS_REPLY = re.compile(r"\s*([1-5])(?:\s*(?:[.,:;!)/-]|\s)\s*(.*))?\s*", re.DOTALL)
# How many recent unanswered surveys of one resident an SMS digit is matched against.
_SMS_CANDIDATES = 5


class SurveyAlreadyAnswered(DomainError):
    """Raise when a survey that has its answer is answered again."""

    code = "survey.already_answered"


@dataclass(frozen=True)
class Answer:
    csat: int
    nps: int | None
    comment: str
    tone: float | None
    flagged: bool


# --- creating -------------------------------------------------------------------------


def in_nps_sample(case_id: int) -> bool:
    """Whether the case's survey also asks NPS: a hash of the id below `nps_share`, so
    the same case always gets the same answer and the sample is spread evenly."""
    share = float(settings.TOWNHALL_EXPERIENCE.nps_share)
    digest = hashlib.sha256(f"townhall-nps:{case_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def survey_reach(case: Case, citizen: Citizen) -> tuple[str, str | None]:
    """(channel, phone) of the resolution message to `citizen`, the reporter of `case`:
    the rule notify's outbox follows (only contacts that may hear about this case, their
    preferred channel first). `phone` is set when that channel is SMS."""
    channel, address = notification_reach(citizen, case_id=case.pk)
    if channel == NotifyChannel.SMS:
        return Channel.SMS, address
    if channel == NotifyChannel.EMAIL:
        return Channel.EMAIL, None
    return Channel.WEB, None


def survey_create(*, case: Case) -> Survey | None:
    """The survey `case` owes its reporter, made once; None without a reporter or when
    they withdrew survey consent. Safe to call twice (returns the existing one)."""
    citizen = case.reporter
    if citizen is None:
        return None
    existing = Survey.objects.filter(case=case).first()
    if existing is not None:
        return existing
    if selectors.survey_consent_withdrawn(citizen_id=citizen.pk):
        return None
    channel, _phone = survey_reach(case, citizen)
    if case.channel == Channel.ASSISTANT:
        channel = Channel.ASSISTANT
    try:
        with transaction.atomic():
            return Survey.objects.create(
                case=case,
                citizen=citizen,
                token_hash=selectors.token_hash(survey_token(case_id=case.pk)),
                channel=channel,
                language=selectors.language_offered(citizen.preferred_language),
                ask_nps=in_nps_sample(case.pk),
                sent_at=timezone.now(),
            )
    except IntegrityError:  # made at the same moment by another process
        return Survey.objects.get(case=case)


# --- answering ------------------------------------------------------------------------


def _as_int(value: object, *, field: str, low: int, high: int, message: str) -> int:
    if isinstance(value, bool):
        raise ValidationFailed(message, details={field: [message]})
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise ValidationFailed(message, details={field: [message]}) from None
    if not low <= number <= high:
        raise ValidationFailed(message, details={field: [message]})
    return number


def _validated(survey: Survey, csat: object, nps: object, comment: object) -> Answer:
    with translation.override(survey.language):
        score = _as_int(csat, field="csat", low=1, high=5, message=_("Choose a score from 1 to 5."))
        promoter: int | None = None
        if survey.ask_nps and nps not in (None, ""):
            promoter = _as_int(
                nps, field="nps", low=0, high=10, message=_("Choose a number from 0 to 10.")
            )
        text = text_clean(comment if isinstance(comment, str) else "").strip()
        if len(text) > COMMENT_MAX:
            message = _("Keep your comment under %(max)s characters.") % {"max": COMMENT_MAX}
            raise ValidationFailed(message, details={"comment": [message]})
    return Answer(score, promoter, text, None, False)


def _answer(survey: Survey, *, csat: object, nps: object, comment: object, via: str) -> Answer:
    if survey.answered_at is not None:
        raise SurveyAlreadyAnswered(_("This survey has already been answered. Thank you."))
    answer = _validated(survey, csat, nps, comment)
    tone: float | None = None
    if answer.comment:
        try:
            tone = float(frustration_score(answer.comment))
        except Exception:  # an answer without a tone beats no answer; words not logged
            log.exception("survey: the tone check failed (survey %s)", survey.pk)
    now = timezone.now()
    with transaction.atomic():
        # One conditional UPDATE: of two answers at the same instant only one finds the
        # row still unanswered (the other's WHERE no longer matches after the lock).
        done = Survey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
            answered_at=now,
            answered_via=via,
            csat=answer.csat,
            nps=answer.nps,
            comment=answer.comment,
            comment_tone=tone,
        )
        if not done:
            raise SurveyAlreadyAnswered(_("This survey has already been answered. Thank you."))
        flagged = _flag_if_low(survey, csat=answer.csat, tone=tone)
    return Answer(answer.csat, answer.nps, answer.comment, tone, flagged)


def _flag_if_low(survey: Survey, *, csat: int, tone: float | None) -> bool:
    low = int(settings.TOWNHALL_EXPERIENCE.low_score)
    reasons = []
    if csat <= low:
        reasons.append(f"CSAT {csat} of 5 (follow-up at {low} or below)")
    if tone is not None and tone >= COMMENT_FLAG_TONE:
        reasons.append(f"comment tone {tone:.2f}")
    if not reasons:
        return False
    case = Case.objects.get(pk=survey.case_id)
    flag_raise(
        case=case,
        kind=FlagKind.LOW_SCORE,
        score=float(csat),
        reason="; ".join(reasons),  # never the comment itself: staff read it on the case
        survey=survey,
    )
    return True


def survey_answer(
    *, token: str, csat: object, nps: object = None, comment: object = "", via: str
) -> Answer:
    """Answer the survey a link's token opens. Raise NotFound for a token that opens none,
    SurveyAlreadyAnswered for a second answer, ValidationFailed for values out of range."""
    survey = selectors.survey_by_token(token)
    if survey is None:
        raise NotFound(_("This survey link does not work."))
    return _answer(survey, csat=csat, nps=nps, comment=comment, via=via)


def survey_answer_for_case(
    *, case_id: int, csat: object, comment: object = "", via: str = Channel.ASSISTANT
) -> Answer:
    """Answer the survey of `case_id` (the chat's buttons: the conversation's key is the
    proof). Raise NotFound when it has none or its resident opted out."""
    survey = selectors.survey_open_for_case(case_id=case_id)
    if survey is None:
        raise NotFound(_("There is no survey to answer here."))
    return _answer(survey, csat=csat, nps=None, comment=comment, via=via)


def survey_answer_by_sms(*, phone: str, text: str) -> str | None:
    """Answer a survey from an SMS reply "1".."5" (a comment may follow); return the reply
    to text back, or None when the message is not a survey answer (it goes on to the
    assistant or intake as before).

    Only from the number the resolution SMS went to (the reporter's, as notify chose it),
    only within `sms_reply_days` of the survey, only while it is unanswered.
    """
    match = _SMS_REPLY.fullmatch(text or "")
    if match is None:
        return None
    point = (
        ContactPoint.objects.select_related("citizen")
        .filter(kind=ContactKind.PHONE, value=phone)
        .first()
    )
    if point is None:
        return None
    since = timezone.now() - timedelta(days=int(settings.TOWNHALL_EXPERIENCE.sms_reply_days))
    candidates = (
        Survey.objects.filter(citizen=point.citizen, answered_at__isnull=True, sent_at__gte=since)
        .select_related("case", "citizen")
        .order_by("-sent_at", "-pk")[:_SMS_CANDIDATES]
    )
    for survey in candidates:
        assert survey.citizen is not None
        channel, sent_to = survey_reach(survey.case, survey.citizen)
        if channel != Channel.SMS or sent_to != phone:
            continue
        if selectors.survey_consent_withdrawn(citizen_id=survey.citizen.pk):
            return None
        with translation.override(survey.language):
            try:
                answer = _answer(
                    survey,
                    csat=int(match.group(1)),
                    nps=None,
                    comment=(match.group(2) or "")[:COMMENT_MAX],
                    via=Channel.SMS,
                )
            except SurveyAlreadyAnswered:
                return _("Thank you: we already have your answer for this request.")
            if answer.flagged:
                return _(
                    "Thank you for your answer. We are sorry it did not go well: "
                    "a supervisor will look at your request."
                )
            return _("Thank you for your answer. It helps us improve.")
    return None


def survey_opt_out(*, citizen_id: int | None, via: str) -> bool:
    """ "Don't ask me again": record that the resident withdrew survey consent (their
    open surveys stop being offered). Return False when the survey has no resident."""
    if citizen_id is None:
        return False
    citizen = Citizen.objects.filter(pk=citizen_id).first()
    if citizen is None:
        return False
    consent_record(
        citizen=citizen,
        purpose=ConsentPurpose.SURVEYS,
        granted=False,
        at=timezone.now(),
        channel=via,
        wording="Don't ask me for feedback again.",
    )
    return True


def survey_opt_out_by_token(*, token: str, via: str) -> bool:
    """The opt-out from a survey link; raise NotFound for a token that opens no survey."""
    survey = selectors.survey_by_token(token)
    if survey is None:
        raise NotFound(_("This survey link does not work."))
    return survey_opt_out(citizen_id=survey.citizen_id, via=via)
