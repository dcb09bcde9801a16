"""Drafts of applications: the answers of a check, kept for the resident who applies.

"Apply" after an eligibility check (`/check/`) or a permit finder (`/permits/`) turns the
answers already given into a draft, kept server-side in the cache (like the checker's own
answers, portal/answers.py) under a random id for ``TOWNHALL_ANSWERS_KEEP_MINUTES``,
bound to the signed-in resident. The page's address carries only that id, signed with
the secret key (salt ``townhall.intake.application``) and dated: it cannot be guessed,
altered or used after it expired, and holds no answer and no personal data. Sending it is
townhall.intake.applications. See docs/rules.md ("Apply").
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from townhall.cases.models import Case
from townhall.core.errors import DomainError, NotFound, ValidationFailed
from townhall.intake.models import ApplicationService, InboundMessage
from townhall.people.models import Channel, Citizen
from townhall.rules.evaluation import (
    Decision,
    Outcome,
    inputs_coerce,
    programme_evaluate,
)
from townhall.rules.permits import permit_tree_walk
from townhall.rules.schema import Programme
from townhall.rules.selectors import permit_tree_get, programme_get

log = logging.getLogger(__name__)
SALT = "townhall.intake.application"
CACHE_PREFIX = "townhall:application:"
EXTERNAL_PREFIX = "application:"
PROGRAMME, PERMIT = "programme", "permit"


class ApplicationRefused(NotFound):
    """No such application for this resident (unknown, altered, or someone else's)."""

    code = "intake.application_refused"


class ApplicationExpired(DomainError):
    """The draft is older than the answers are kept: check again."""

    code = "intake.application_expired"


class NotApplicable(ValidationFailed):
    """These answers do not lead to an application (not eligible, no such permit, or no
    service set up for it)."""

    code = "intake.application_not_applicable"


@dataclass(frozen=True)
class Draft:
    id: str
    citizen_id: int
    kind: str  # PROGRAMME or PERMIT
    ident: str  # the programme id, or "tree id:permit id"
    service_type_id: int
    # A programme's answers as text by input name; a permit's as [question id, choice id].
    answers: Any


# --- set-up: which service a programme or a permit opens -----------------------------------


def application_service_for(*, kind: str, ident: str) -> ApplicationService | None:
    """The active application service of a programme (`kind` PROGRAMME, ident its id) or a
    permit (PERMIT, "tree id:permit id"), if the council set one up."""
    rows = ApplicationService.objects.select_related("service_type").filter(
        active=True, service_type__active=True
    )
    found = rows.filter(programme=ident) if kind == PROGRAMME else rows.filter(permit=ident)
    return found.first() if ident else None


def permits_with_application(*, tree_id: str, permit_ids: Sequence[str]) -> set[str]:
    """Of `permit_ids` in the tree, those an application can be made for."""
    wanted = [f"{tree_id}:{p}" for p in permit_ids]
    found = ApplicationService.objects.filter(
        active=True, service_type__active=True, permit__in=wanted
    ).values_list("permit", flat=True)
    return {p.partition(":")[2] for p in found}


# --- starting: the answers of a check become a draft ----------------------------------------


def _service(kind: str, ident: str) -> ApplicationService:
    service = application_service_for(kind=kind, ident=ident)
    if service is None:
        raise NotApplicable(
            _("You cannot apply online for this yet."),
            details={"apply": [_("You cannot apply online for this yet. Please contact us.")]},
        )
    return service


def programme_check(programme: Programme, answers: Mapping[str, object], language: str) -> Decision:
    try:
        values = inputs_coerce(programme, answers)
        return programme_evaluate(
            programme, inputs=values, on=timezone.localdate(), language=language
        )
    except DomainError as exc:
        raise NotApplicable(
            _("Check your answers again."), details={"apply": [_("Check your answers again.")]}
        ) from exc


def not_eligible() -> NotApplicable:
    return NotApplicable(
        _("These answers are not eligible."),
        details={"apply": [_("From these answers you cannot apply. Check your answers.")]},
    )


def application_start(
    *, citizen: Citizen, rule_id: str, answers: Mapping[str, object], language: str = "en"
) -> str:
    """Keep the eligibility check's `answers` as a draft application for `citizen` and
    return its signed token. NotFound for an unknown programme; NotApplicable if the
    answers are not (or no longer) eligible or no service is set up for it."""
    programme = programme_get(rule_id=rule_id)
    service = _service(PROGRAMME, programme.id)
    given = {str(k): str(v) for k, v in answers.items() if k in programme.inputs and v != ""}
    if programme_check(programme, given, language).outcome != Outcome.ELIGIBLE:
        raise not_eligible()
    # Kept as each input's plain text ("45,000" becomes "45000", a truth "yes"): what the
    # case's questions, a rule fee and the appointment's eligibility check all read.
    values = inputs_coerce(programme, given)
    kept = {name: _plain(value) for name, value in values.items() if value is not None}
    return _draft_keep(citizen, PROGRAMME, programme.id, service, kept)


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def permit_application_start(
    *,
    citizen: Citizen,
    tree_id: str,
    permit_id: str,
    answers: Sequence[tuple[str, str]],
) -> str:
    """Keep the permit finder's `answers` as a draft application for the permit
    `permit_id` and return its token. NotFound for an unknown tree; NotApplicable unless
    the answers end at a result that needs that permit and a service is set up for it."""
    tree = permit_tree_get(tree_id=tree_id)
    pairs = [(str(q), str(c)) for q, c in answers]
    try:
        step = permit_tree_walk(tree, answers=pairs)
    except ValidationFailed as exc:
        raise not_eligible() from exc
    if not step.finished or permit_id not in {p.id for p in step.permits}:
        raise not_eligible()
    ident = f"{tree.id}:{permit_id}"
    return _draft_keep(citizen, PERMIT, ident, _service(PERMIT, ident), [list(p) for p in pairs])


def _draft_keep(
    citizen: Citizen, kind: str, ident: str, service: ApplicationService, answers: Any
) -> str:
    draft_id = secrets.token_urlsafe(18)
    kept = {
        "citizen": citizen.pk,
        "kind": kind,
        "ident": ident,
        "service": service.service_type_id,
        "answers": answers,
    }
    try:
        cache.set(CACHE_PREFIX + draft_id, kept, timeout=_minutes() * 60)
    except Exception as exc:  # a cache outage: say so, never a 500
        log.warning("application draft not kept: cache unavailable", exc_info=True)
        message = _("We could not start your application just now. Please try again later.")
        raise NotApplicable(message, details={"apply": [message]}) from exc
    return signing.dumps({"d": draft_id}, salt=SALT)


def _minutes() -> int:
    return int(settings.TOWNHALL_ANSWERS_KEEP_MINUTES)


# --- reading a draft -------------------------------------------------------------------------


def draft_id_read(token: str, *, fresh: bool) -> str:
    """The draft id a token names; ApplicationExpired if it is too old (and `fresh` is
    asked for), ApplicationRefused if we did not sign it."""
    if not token or len(token) > 200:
        raise ApplicationRefused(_("We could not find that application."))
    try:
        data = signing.loads(token, salt=SALT, max_age=_minutes() * 60 if fresh else None)
    except signing.SignatureExpired:
        raise ApplicationExpired(_("This application has expired.")) from None
    except signing.BadSignature:
        raise ApplicationRefused(_("We could not find that application.")) from None
    draft_id = data.get("d") if isinstance(data, dict) else None
    if not isinstance(draft_id, str) or not draft_id:
        raise ApplicationRefused(_("We could not find that application."))
    return draft_id


def application_draft(*, token: str, citizen: Citizen | None) -> Draft:
    """The draft `token` names, if it is `citizen`'s and still kept.

    ApplicationRefused (unknown, altered, another resident's, nobody signed in),
    ApplicationExpired (older than the answers are kept)."""
    draft_id = draft_id_read(token, fresh=True)
    try:
        kept = cache.get(CACHE_PREFIX + draft_id)
    except Exception:  # a cache outage loses the draft, never the page
        kept = None
    if not isinstance(kept, dict):
        raise ApplicationExpired(_("This application has expired."))
    if citizen is None or kept.get("citizen") != citizen.pk:
        raise ApplicationRefused(_("We could not find that application."))
    return Draft(
        id=draft_id,
        citizen_id=int(kept["citizen"]),
        kind=str(kept["kind"]),
        ident=str(kept["ident"]),
        service_type_id=int(kept["service"]),
        answers=kept["answers"],
    )


def draft_case_of(draft_id: str, citizen: Citizen) -> Case | None:
    found = (
        InboundMessage.objects.filter(
            channel=Channel.WEB, external_id=EXTERNAL_PREFIX + draft_id, case__isnull=False
        )
        .select_related("case")
        .first()
    )
    if found is None or found.case is None or found.case.reporter_id != citizen.pk:
        return None
    return found.case
