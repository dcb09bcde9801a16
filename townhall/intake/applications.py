"""Apply after a check: an eligibility programme's or a permit's application, pre-filled.

A resident who has just been told "you are likely to be eligible" (`/check/`) or "you need
this permit" (`/permits/`) presses **Apply**. The answers already given become a *draft*:
kept server-side in the cache (like the checker's own answers, portal/answers.py) under a
random id, for ``TOWNHALL_ANSWERS_KEEP_MINUTES``, bound to the signed-in resident. The
page's address carries only that id, signed with the secret key (salt
``townhall.intake.application``) and dated, so it cannot be guessed, altered or used
after it expired, and holds no answer and no personal data.

Sending the application opens a case through the intake pipeline like every other
channel, with the answers on the case (those the service type asks, under the same
codes: what the console's case and appointment pages show, and what the eligibility of
an appointment and a rule fee are worked out from), the whole check in its description,
and the documents as the message's attachments. The draft's id is the message's
`external_id`: a second send (a double click, the back button) finds the case already
opened and returns it instead of opening another; the resident's row is locked while it
looks, so two sends at once open one case (on PostgreSQL). Then, if the service (or the
permit) has a fee, the payment waits to be paid; if the service needs a meeting, a time
may be booked. See docs/rules.md ("Apply").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from townhall.appointments.models import Appointment, AppointmentStatus, MeetingService
from townhall.cases.models import Case
from townhall.cases.photos import InvalidPhoto, photo_clean
from townhall.cases.tracking import track_path, track_token
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import attribute_specs_for
from townhall.core.errors import DomainError, ValidationFailed
from townhall.intake.application_drafts import (
    CACHE_PREFIX,
    EXTERNAL_PREFIX,
    PERMIT,
    PROGRAMME,
    ApplicationExpired,
    Draft,
    application_draft,
    draft_case_of,
    draft_id_read,
    not_eligible,
    programme_check,
)
from townhall.intake.messages import Attachment, Dedupe, IncomingMessage, Sender
from townhall.intake.models import ApplicationService
from townhall.intake.services import intake_submit
from townhall.payments.fees import FeeUnavailable, fee_amount, fee_for_permit, fee_for_service
from townhall.payments.links import payment_path
from townhall.payments.models import Payment, PaymentState
from townhall.payments.money import money_format
from townhall.payments.services import payment_create
from townhall.people.models import Channel, Citizen, ContactKind
from townhall.people.selectors import citizen_verified_contacts
from townhall.rules.evaluation import (
    Outcome,
    format_value,
    inputs_coerce,
    pick,
)
from townhall.rules.schema import PermitTree
from townhall.rules.selectors import permit_tree_get, programme_get

log = logging.getLogger(__name__)
PDF_MAGIC = b"%PDF-"
DOCUMENTS_MAX = 12
DESCRIPTION_MAX = 8000


@dataclass(frozen=True)
class DocumentNeed:
    code: str
    label: str
    required: bool


@dataclass(frozen=True)
class Upload:
    """A file the resident chose for one of the documents (`code`)."""

    code: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class ApplicationPage:
    """What the application page shows (no model leaves this module)."""

    title: str
    service_name: str
    rows: list[tuple[str, str]]
    reasons: list[str]
    documents: list[DocumentNeed]
    fee: str
    meeting: bool
    change_url: str


@dataclass(frozen=True)
class Submitted:
    case: Case
    created: bool
    payment_path: str  # "" when nothing is left to pay
    book_path: str  # "" when the service needs no meeting (or one is booked)
    request_path: str  # the resident's private page of the request


def application_submitted(*, token: str, citizen: Citizen | None) -> Submitted | None:
    """The case this token's application opened for `citizen` (even once the draft has
    expired), or None if it was not sent. ApplicationRefused if we did not sign it."""
    draft_id = draft_id_read(token, fresh=False)
    if citizen is None:
        return None
    case = draft_case_of(draft_id, citizen)
    return _after(case, created=False) if case is not None else None


# --- what the application page shows ---------------------------------------------------------


def _tree_and_permit(ident: str) -> tuple[PermitTree, str]:
    tree_id, _sep, permit_id = ident.partition(":")
    tree = permit_tree_get(tree_id=tree_id)
    if permit_id not in tree.permits:
        raise ApplicationExpired(_("This application has expired."))
    return tree, permit_id


def _rows(draft: Draft, language: str) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The title, the answers as (question, answer) and the reasons, in `language`."""
    if draft.kind == PROGRAMME:
        programme = programme_get(rule_id=draft.ident)
        decision = programme_check(programme, draft.answers, language)
        if decision.outcome != Outcome.ELIGIBLE:
            raise not_eligible()
        values = inputs_coerce(programme, draft.answers)
        rows = []
        for name, spec in programme.inputs.items():
            value = values.get(name)
            if value is None:
                continue
            if spec.type == "choice":
                text = next((pick(o.label, language) for o in spec.options if o.value == value), "")
            elif spec.type == "boolean":
                text = _("Yes") if value else _("No")
            else:
                text = format_value(value, money=spec.type == "money", currency=programme.currency)
            rows.append((pick(spec.question, language), text))
        reasons = [c.explanation for c in decision.conditions if c.status == "pass"]
        if decision.amount_explanation:
            reasons.append(decision.amount_explanation)
        return pick(programme.title, language), rows, reasons
    tree, permit_id = _tree_and_permit(draft.ident)
    rows = []
    for question_id, choice_id in draft.answers:
        question = tree.questions.get(question_id)
        if question is None:
            continue
        label = next((pick(c.label, language) for c in question.choices if c.id == choice_id), "")
        rows.append((pick(question.text, language), label))
    return pick(tree.permits[permit_id].name, language), rows, []


def documents_needed(draft: Draft, language: str = "en") -> list[DocumentNeed]:
    """The documents to upload: a permit's own (each required), then those the
    application service lists (required unless it says `"required": false`)."""
    needs: list[DocumentNeed] = []
    if draft.kind == PERMIT:
        tree, permit_id = _tree_and_permit(draft.ident)
        for number, text in enumerate(tree.permits[permit_id].documents, start=1):
            needs.append(DocumentNeed(f"permit_{number}", pick(text, language), True))
    service = ApplicationService.objects.filter(service_type_id=draft.service_type_id).first()
    for number, item in enumerate(service.documents if service else [], start=1):
        if not isinstance(item, Mapping):
            continue
        label = item.get("label")
        wording = pick(label, language) if isinstance(label, Mapping) else str(label or "")
        # The code names a form field and an element id: letters, digits and _ only.
        code = re.sub(r"[^a-z0-9_]", "", str(item.get("code") or "").lower())[:40]
        code = code or f"document_{number}"
        if wording and code not in {n.code for n in needs}:
            needs.append(DocumentNeed(code, wording, item.get("required", True) is not False))
    return needs[:DOCUMENTS_MAX]


def _service_type(draft: Draft) -> ServiceType:
    found = ServiceType.objects.filter(pk=draft.service_type_id, active=True).first()
    if found is None:
        raise ApplicationExpired(_("This application has expired."))
    return found


def _fee_text(draft: Draft, service_type: ServiceType, language: str) -> str:
    fee = fee_for_service(service_type.pk)
    if fee is None and draft.kind == PERMIT:
        tree_id, _sep, permit_id = draft.ident.partition(":")
        fee = fee_for_permit(tree_id, permit_id)
    if fee is None:
        return ""
    try:
        money = fee_amount(fee, answers=_case_answers_all(draft), on=timezone.localdate())
    except (FeeUnavailable, DomainError):
        return ""
    return money_format(money, language) if money.amount_minor > 0 else ""


def application_page(draft: Draft, *, language: str = "en") -> ApplicationPage:
    """Everything the application page shows for `draft`."""
    service_type = _service_type(draft)
    title, rows, reasons = _rows(draft, language)
    return ApplicationPage(
        title=title,
        service_name=service_type.name,
        rows=rows,
        reasons=reasons,
        documents=documents_needed(draft, language),
        fee=_fee_text(draft, service_type, language),
        meeting=MeetingService.objects.filter(service_type=service_type, active=True).exists(),
        change_url=f"/check/{draft.ident}/"
        if draft.kind == PROGRAMME
        else "/permits/?tree=" + draft.ident.partition(":")[0],
    )


# --- sending ---------------------------------------------------------------------------------


def documents_check(needs: Sequence[DocumentNeed], uploads: Sequence[Upload]) -> list[Attachment]:
    """The uploads as attachments, each checked like a report's photos: a photo is
    re-encoded without its hidden details (cases.photos), a PDF is kept if it is one; at
    most TOWNHALL_PHOTO_MAX_BYTES each. Raise ValidationFailed, keyed by document code,
    for every missing required document and every file refused."""
    wanted = {n.code: n for n in needs}
    by_code: dict[str, Upload] = {}
    errors: dict[str, list[str]] = {}
    for upload in uploads:
        if upload.code not in wanted:
            errors.setdefault("documents", [_("Upload only the documents listed.")])
        elif upload.code in by_code:
            errors[upload.code] = [_("Upload one file for each document.")]
        else:
            by_code[upload.code] = upload
    limit = int(settings.TOWNHALL_PHOTO_MAX_BYTES)
    out: list[Attachment] = []
    for code, need in wanted.items():
        chosen = by_code.get(code)
        if chosen is None or not chosen.data:
            if need.required:
                errors[code] = [_("Upload %(document)s.") % {"document": need.label}]
            continue
        upload = chosen
        if len(upload.data) > limit:
            errors[code] = [_("The file must be smaller than %(mb)s MB.") % {"mb": limit // 2**20}]
            continue
        if upload.data.startswith(PDF_MAGIC):
            out.append(Attachment(f"{code}.pdf", "application/pdf", upload.data))
            continue
        try:
            photo = photo_clean(upload.data, filename=upload.filename)
        except InvalidPhoto:
            errors[code] = [_("The file must be a PDF or a photo (JPEG, PNG or HEIC).")]
            continue
        out.append(Attachment(f"{code}.{photo.extension}", photo.content_type, photo.content))
    if errors:
        raise ValidationFailed(_("Some documents need attention."), details=errors)
    return out


def _case_answers_all(draft: Draft) -> dict[str, object]:
    if draft.kind == PROGRAMME:
        return dict(draft.answers)
    return {str(q): str(c) for q, c in draft.answers}


def _case_answers(draft: Draft, service_type: ServiceType) -> dict[str, object]:
    """The answers the service type asks (same codes): the rest are in the description."""
    asked = {s.code for s in attribute_specs_for(service_type=service_type) if s.variable}
    return {k: v for k, v in _case_answers_all(draft).items() if k in asked}


def _description(draft: Draft) -> str:
    """The whole check in the council's language, for the caseworker."""
    language = settings.LANGUAGE_CODE
    title, rows, reasons = _rows(draft, language)
    lines = [f"Application: {title}", ""]
    if reasons:
        lines += [f"Eligibility check on {timezone.localdate():%Y-%m-%d}: likely eligible."]
        lines += [f"- {r}" for r in reasons] + [""]
    lines += ["Answers given:"] + [f"- {q}: {a}" for q, a in rows]
    return "\n".join(lines)[:DESCRIPTION_MAX]


def _contact(citizen: Citizen) -> Sender:
    contacts = citizen_verified_contacts(citizen)
    email = next((c.value for c in contacts if c.kind == ContactKind.EMAIL), "")
    phone = next((c.value for c in contacts if c.kind == ContactKind.PHONE), "")
    if not email and not phone:
        raise ValidationFailed(
            _("We need a way to reach you."),
            details={"apply": [_("Add an e-mail address or a phone number to your account.")]},
        )
    return Sender(
        email=email,
        phone="" if email else phone,
        name=citizen.display_name,
        language=citizen.preferred_language,
    )


def application_submit(
    *, token: str, citizen: Citizen | None, uploads: Sequence[Upload], language: str = "en"
) -> Submitted:
    """Send the application: open its case (once per draft), with its answers and
    documents, and its payment if it has a fee. A second send returns the first's case.

    ApplicationRefused, ApplicationExpired, NotApplicable; ValidationFailed (keyed by
    document code, or "apply") for documents or a case the pipeline refused. Nothing is
    written when it raises."""
    earlier = application_submitted(token=token, citizen=citizen)
    if earlier is not None:
        return earlier
    draft = application_draft(token=token, citizen=citizen)
    assert citizen is not None  # application_draft refuses anonymous visitors
    service_type = _service_type(draft)
    attachments = documents_check(documents_needed(draft, language), uploads)
    sender = _contact(citizen)
    description = _description(draft)  # re-checks eligibility on today's rules
    raw = orjson.dumps(
        {"application": draft.kind, "for": draft.ident, "answers": draft.answers}
    ).decode()
    with transaction.atomic():
        # One send at a time per resident: the second waits here, then finds the case.
        Citizen.objects.select_for_update().filter(pk=citizen.pk).first()
        case = draft_case_of(draft.id, citizen)
        if case is not None:
            return _after(case, created=False)
        result = intake_submit(
            IncomingMessage(
                channel=Channel.WEB,
                sender=sender,
                subject=_rows(draft, settings.LANGUAGE_CODE)[0],
                text=description,
                attachments=tuple(attachments),
                service=service_type,
                answers=_case_answers(draft, service_type),
                dedupe=Dedupe.SUGGEST,
                external_id=EXTERNAL_PREFIX + draft.id,
                raw=raw,
            )
        )
        if result.case is None:
            raise ValidationFailed(
                _("We could not take this application."),
                details={"apply": [result.reply or _("Please try again later.")]},
            )
        _permit_payment(draft, result.case)
    try:
        cache.delete(CACHE_PREFIX + draft.id)  # the answers are on the case now
    except Exception:  # they expire by themselves in minutes
        log.warning("application draft not removed from the cache", exc_info=True)
    return _after(result.case, created=True)


def _permit_payment(draft: Draft, case: Case) -> None:
    """A permit's own fee, when its service type has none (which the case's opening
    would have asked for already)."""
    if draft.kind != PERMIT or Payment.objects.filter(case=case).exists():
        return
    tree_id, _sep, permit_id = draft.ident.partition(":")
    fee = fee_for_permit(tree_id, permit_id)
    if fee is None:
        return
    try:
        money = fee_amount(fee, answers={}, on=timezone.localdate(case.opened_at))
    except ValidationFailed:
        return
    if money.amount_minor > 0:
        payment_create(case=case, money=money, description=fee.name, fee=fee)


def _after(case: Case, *, created: bool) -> Submitted:
    """What comes next for the case: its payment, and booking a meeting."""
    payable = (
        Payment.objects.filter(
            case=case, state__in=(PaymentState.DUE, PaymentState.PENDING, PaymentState.FAILED)
        )
        .order_by("created_at")
        .first()
    )
    book = ""
    meeting = MeetingService.objects.filter(service_type_id=case.service_type_id, active=True)
    live = Appointment.objects.filter(case=case, status=AppointmentStatus.BOOKED).exists()
    if meeting.exists() and not live:
        book = f"/appointments/book/{track_token(case)}/"
    return Submitted(
        case=case,
        created=created,
        payment_path=payment_path(payable.reference) if payable is not None else "",
        book_path=book,
        request_path=track_path(case),
    )
