"""Writes for cases. Every change is one transaction that also appends its CaseEvent.

Follow-up work is enqueued to run after commit, so a rolled-back change triggers nothing.
New cases wait in the cases table itself (status NEW) for `case_acknowledge_pending`,
which one pending task runs for a whole burst of openings and the scheduler also runs
periodically, so a crash between commit and enqueue loses nothing.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from townhall.cases.assignment import Candidate, assignee_pick
from townhall.cases.dispatch import case_event_publish, case_event_wanted
from townhall.cases.errors import CaseNotFound, InvalidCaseInput, InvalidMerge
from townhall.cases.ledger import GENESIS_HASH, event_hash, personal_split
from townhall.cases.lifecycle import (
    FINISHED_STATUSES,
    OPEN_STATUSES,
    PAUSED_STATUSES,
    CaseStatus,
    transition_check,
)
from townhall.cases.models import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseEventPersonal,
    CaseFollower,
    CasePhoto,
    CaseWatcher,
    FollowRequest,
    FollowVia,
    TimeEntry,
    photo_path,
)
from townhall.cases.photos import CleanPhoto
from townhall.cases.redaction import public_text
from townhall.cases.sla import SlaClock, SlaState, SlaTarget, sla_pause, sla_resume, sla_start
from townhall.catalog.attributes import answers_clean
from townhall.catalog.calendars import WorkingCalendar
from townhall.catalog.models import DepartmentMember, Priority, ServiceType
from townhall.catalog.selectors import (
    attribute_specs_for,
    sla_terms_for,
    working_calendar_for,
)
from townhall.core import clock
from townhall.core.db import KeyReservations, rows_insert_together
from townhall.core.errors import ValidationFailed
from townhall.core.security import SecurityEventKind, security_event
from townhall.core.tasks import enqueue_once_on_commit
from townhall.people.models import Channel, Citizen
from townhall.people.roles import StaffRole

logger = logging.getLogger(__name__)

Actor = AbstractBaseUser | None
DESCRIPTION_MAX = 10_000
_case_keys = KeyReservations(Case)
_event_keys = KeyReservations(CaseEvent)


# --- the event chain ---------------------------------------------------------------------


def _event_build(
    *,
    case: Case,
    kind: CaseEventKind,
    at: datetime,
    actor: Actor,
    channel: str,
    previous: tuple[int, str],
    data: dict[str, Any] | None = None,
    public: bool = False,
) -> CaseEvent:
    """Return the next event of `case`'s chain after `previous` (its seq and hash), unsaved."""
    seq, prev_hash = previous[0] + 1, previous[1]
    actor_id = actor.pk if actor is not None else None
    # Personal values leave the hashed payload: it keeps their salted commitments.
    payload, personal = personal_split(data or {})
    event = CaseEvent(
        case=case,
        seq=seq,
        kind=kind,
        at=at,
        actor_id=actor_id,
        actor_label=actor.get_username() if actor is not None else "system",
        channel=channel,
        public=public,
        data=payload,
        prev_hash=prev_hash,
        hash=event_hash(
            prev_hash=prev_hash,
            case_id=case.pk,
            seq=seq,
            kind=kind,
            at=at,
            actor_id=actor_id,
            channel=channel,
            public=public,
            data=payload,
        ),
    )
    event._personal_values = {field: value for field, (value, _salt) in personal.items()}
    event._personal_rows = tuple(
        CaseEventPersonal(case=case, field=field, value=value, salt=salt)
        for field, (value, salt) in personal.items()
    )
    return event


def _personal_save(events: Sequence[CaseEvent]) -> None:
    """Write the personal values of events just inserted (one statement, if any)."""
    rows = []
    for event in events:
        for row in event._personal_rows:
            row.event = event
            rows.append(row)
    if rows:
        CaseEventPersonal.objects.bulk_create(rows)


def _event_append(
    *,
    case: Case,
    kind: CaseEventKind,
    at: datetime,
    actor: Actor,
    channel: str,
    data: dict[str, Any] | None = None,
    public: bool = False,
    previous: tuple[int, str] | None = None,
) -> CaseEvent:
    """Append an event to `case`'s chain. The caller holds the case's row lock."""
    if previous is None:
        last = (
            CaseEvent.objects.filter(case_id=case.pk)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        previous = last if last is not None else (0, GENESIS_HASH)
    event = _event_build(
        case=case,
        kind=kind,
        at=at,
        actor=actor,
        channel=channel,
        previous=previous,
        data=data,
        public=public,
    )
    event.save(force_insert=True)
    _personal_save([event])
    case_event_publish(event)
    return event


def _case_lock(case_id: int) -> Case:
    """Return the case with its row locked until the transaction ends."""
    try:
        return (
            Case.objects.select_for_update(of=("self",))
            .select_related("service_type", "department")
            .get(pk=case_id)
        )
    except Case.DoesNotExist as exc:
        raise CaseNotFound("No such case.") from exc


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- SLA glue ----------------------------------------------------------------------------


def _sla_inputs(case: Case) -> tuple[SlaTarget, WorkingCalendar] | None:
    terms = sla_terms_for(service_type_id=case.service_type_id, priority=case.priority)
    if terms is None:
        return None
    target = SlaTarget(
        target=timedelta(hours=float(Decimal(terms.target_hours))), clock=SlaClock(terms.clock)
    )
    return target, working_calendar_for(department=case.department)


def _sla_apply(case: Case, state: SlaState, calendar: WorkingCalendar) -> None:
    case.due_at = state.due_at
    case.sla_paused_remaining = state.paused_remaining
    if state.due_at is not None:
        case.expected_on = state.due_at.astimezone(calendar.tz).date()


# --- opening -----------------------------------------------------------------------------


def case_open(
    *,
    service_type: ServiceType,
    channel: str,
    description: str = "",
    answers: Mapping[str, object] | None = None,
    lat: float | None = None,
    long: float | None = None,
    address: str = "",
    address_id: str = "",
    media_url: str = "",
    priority: str = Priority.NORMAL,
    reporter: Citizen | None = None,
    actor: Actor = None,
    opened_at: datetime | None = None,
    answers_partial: bool = False,
) -> Case:
    """Open a case with its OPENED event and SLA due date, written atomically.

    Raise InvalidCaseInput (nothing written) if the service is inactive, the answers do
    not fit the service's questions, the location is out of range, a text is too long or
    the request says nothing at all. `answers_partial` lets required questions go
    unanswered, for channels that cannot ask them (e-mail, SMS, partners' messages).
    """
    errors: dict[str, list[str]] = {}
    if not service_type.active:
        errors["service_code"] = ["This service is not taking new requests."]
    if channel not in Channel.values:
        errors["channel"] = [f"Unknown channel {channel!r}."]
    if priority not in Priority.values:
        errors["priority"] = [f"Unknown priority {priority!r}."]
    if (lat is None) != (long is None):
        errors["location"] = ["Give both latitude and longitude, or neither."]
    elif lat is not None and long is not None and not (-90 <= lat <= 90 and -180 <= long <= 180):
        errors["location"] = ["Latitude must be within ±90 and longitude within ±180."]
    for field, value, limit in (
        ("description", description, DESCRIPTION_MAX),
        ("address_string", address, Case._meta.get_field("address").max_length),
        ("address_id", address_id, Case._meta.get_field("address_id").max_length),
        ("media_url", media_url, Case._meta.get_field("media_url").max_length),
    ):
        if limit is not None and len(value) > limit:
            errors[field] = [f"Keep this under {limit} characters."]
    if media_url and "media_url" not in errors and not _is_web_address(media_url):
        errors["media_url"] = ["Give a web address starting with http:// or https://."]
    clean_answers: dict[str, object] = {}
    try:
        clean_answers = answers_clean(
            specs=attribute_specs_for(service_type=service_type),
            answers=answers or {},
            partial=answers_partial,
        )
    except ValidationFailed as exc:
        errors.update(exc.details)
    if not description.strip() and not clean_answers and not address and lat is None:
        errors["description"] = ["Tell us what the problem is or where it is."]
    if errors:
        raise InvalidCaseInput("The request could not be accepted.", details=errors)

    now = opened_at or clock.now()
    case = Case(
        service_type=service_type,
        description=description.strip(),
        public_description=_public_text(description),
        answers=clean_answers,
        lat=lat,
        long=long,
        address=address.strip(),
        address_id=address_id,
        media_url=media_url,
        channel=channel,
        priority=priority,
        department=service_type.department,
        reporter=reporter,
        status=CaseStatus.NEW,
        opened_at=now,
        updated_at=now,
    )
    sla = _sla_inputs(case)
    if sla is not None:
        _sla_apply(case, sla_start(received_at=now, target=sla[0], calendar=sla[1]), sla[1])

    def opened_event() -> CaseEvent:
        return _event_build(
            case=case,
            kind=CaseEventKind.OPENED,
            at=now,
            actor=actor,
            channel=channel,
            public=True,
            previous=(0, GENESIS_HASH),
            data={
                "service": service_type.code,
                "priority": priority,
                "due_at": _iso(case.due_at),
                "expected_on": case.expected_on.isoformat() if case.expected_on else None,
            },
        )

    case.pk = _case_keys.take()
    if case.pk is None or case_event_wanted(CaseEventKind.OPENED):
        with transaction.atomic():
            case.save(force_insert=True)
            event = opened_event()
            event.save(force_insert=True)
            _personal_save([event])
            case_event_publish(event)
    else:
        # The key is known before writing, so the case and its first event go in one
        # atomic statement: no BEGIN/COMMIT round trips on the busiest write path. (The
        # opened event holds no personal values: the description and address stay on the
        # case row, where erasure can redact them, so there is no third row to write.)
        event = opened_event()
        event.pk = _event_keys.take()
        rows_insert_together(case, event)
    _dispatch_opened(case)
    return case


def _public_text(description: str) -> str:
    """What may be published of a resident's words: masked once, when written."""
    return public_text(description, region=settings.TOWNHALL_PHONE_REGION)


def _is_web_address(value: str) -> bool:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except DjangoValidationError:
        return False
    return True


def case_import(
    *,
    service_type: ServiceType,
    external_id: str,
    finished: bool,
    opened_at: datetime,
    updated_at: datetime,
    description: str = "",
    lat: float | None = None,
    long: float | None = None,
    address: str = "",
    address_id: str = "",
    media_url: str = "",
    status_notes: str = "",
    channel: str = Channel.OPEN311,
) -> Case | None:
    """Write a request another system already handled, as it stands there; return None if
    a case with `external_id` exists (so an interrupted import can simply be run again).

    The history is what the source tells: an OPENED event at `opened_at` and, at
    `updated_at`, the closing (when `finished`) or the public note. No SLA clock, no
    acknowledgement, no notification: the resident heard from the old system.
    Raise InvalidCaseInput (nothing written) for an out-of-range location or an over-long text.
    """
    errors: dict[str, list[str]] = {}
    if not external_id.strip():
        errors["external_id"] = ["An imported request needs the id it had."]
    if (lat is None) != (long is None):
        errors["location"] = ["Give both latitude and longitude, or neither."]
    elif lat is not None and long is not None and not (-90 <= lat <= 90 and -180 <= long <= 180):
        errors["location"] = ["Latitude must be within ±90 and longitude within ±180."]
    for field, value, limit in (
        ("external_id", external_id, Case._meta.get_field("external_id").max_length),
        ("description", description, DESCRIPTION_MAX),
        ("address", address, Case._meta.get_field("address").max_length),
        ("address_id", address_id, Case._meta.get_field("address_id").max_length),
        ("media_url", media_url, Case._meta.get_field("media_url").max_length),
    ):
        if limit is not None and len(value) > limit:
            errors[field] = [f"Keep this under {limit} characters."]
    if errors:
        raise InvalidCaseInput("The request could not be imported.", details=errors)
    with transaction.atomic():
        if Case.objects.filter(external_id=external_id).exists():
            return None
        case = Case.objects.create(
            service_type=service_type,
            external_id=external_id,
            description=description,
            # Served as the source served it: an imported request's description was
            # already public there (Open311 GET), and its clients expect it unchanged.
            public_description=description,
            lat=lat,
            long=long,
            address=address,
            address_id=address_id,
            media_url=media_url,
            channel=channel,
            department=service_type.department,
            status=CaseStatus.CLOSED if finished else CaseStatus.ACKNOWLEDGED,
            opened_at=opened_at,
            acknowledged_at=opened_at,
            closed_at=updated_at if finished else None,
            updated_at=updated_at,
        )
        opened = _event_append(
            case=case,
            kind=CaseEventKind.OPENED,
            at=opened_at,
            actor=None,
            channel=channel,
            public=True,
            previous=(0, GENESIS_HASH),
            data={"service": service_type.code, "imported": external_id},
        )
        if finished or status_notes:
            _event_append(
                case=case,
                kind=CaseEventKind.STATUS_CHANGED if finished else CaseEventKind.PUBLIC_UPDATE,
                at=updated_at,
                actor=None,
                channel=channel,
                public=True,
                previous=(opened.seq, opened.hash),
                data={"from": "acknowledged", "to": "closed", "note": status_notes}
                if finished
                else {"text": status_notes},
            )
    return case


def _dispatch_opened(case: Case) -> None:
    """Say everything that opening a case triggers: for now, acknowledging it."""
    from townhall.cases.tasks import case_acknowledge_pending_task  # tasks import services

    enqueue_once_on_commit(case_acknowledge_pending_task)


def case_acknowledge(*, case_id: int, now: datetime | None = None) -> bool:
    """Acknowledge a new case, confirming its expected date; return False if already done.

    Safe to run twice: a case that is no longer NEW is left alone.
    """
    with transaction.atomic():
        case = _case_lock(case_id)
        if case.status != CaseStatus.NEW:
            return False
        at = now or clock.now()
        case.status = CaseStatus.ACKNOWLEDGED
        case.acknowledged_at = at
        case.updated_at = at
        case.save(update_fields=["status", "acknowledged_at", "updated_at"])
        _event_append(
            case=case,
            kind=CaseEventKind.ACKNOWLEDGED,
            at=at,
            actor=None,
            channel=case.channel,
            public=True,
            data={"expected_on": case.expected_on.isoformat() if case.expected_on else None},
        )
        if case.assignee_id is None:
            _auto_assign(case, at)
    return True


def _auto_assign(case: Case, at: datetime) -> None:
    """Give `case` (locked) to a member if its department assigns automatically.

    The department's member rows are locked while choosing, so two cases acknowledged at
    once do not both go to the same "least loaded" person.
    """
    members = list(
        DepartmentMember.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(
            department_id=case.department_id,
            department__auto_assign=True,
            takes_cases=True,
            user__is_active=True,
        )
        .order_by("pk")
    )
    if not members:
        return
    skills: dict[int, set[int]] = {}
    for member_id, service_id in DepartmentMember.skills.through.objects.filter(
        departmentmember_id__in=[m.pk for m in members]
    ).values_list("departmentmember_id", "servicetype_id"):
        skills.setdefault(member_id, set()).add(service_id)
    loads = dict(
        Case.objects.filter(status__in=OPEN_STATUSES, assignee_id__in=[m.user_id for m in members])
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    chosen = assignee_pick(
        [
            Candidate(
                user_id=m.user_id,
                weight=m.weight,
                open_load=loads.get(m.user_id, 0),
                skills=frozenset(skills.get(m.pk, ())),
                takes_cases=m.takes_cases,
                away_from=m.away_from,
                away_until=m.away_until,
                last_assigned_at=m.last_assigned_at,
            )
            for m in members
        ],
        service_type_id=case.service_type_id,
        now=at,
    )
    if chosen is None:
        return
    member = next(m for m in members if m.user_id == chosen.user_id)
    member.last_assigned_at = at
    member.save(update_fields=["last_assigned_at"])
    case.assignee_id = chosen.user_id
    case.save(update_fields=["assignee"])
    _event_append(
        case=case,
        kind=CaseEventKind.ASSIGNED,
        at=at,
        actor=None,
        channel=Channel.STAFF,
        data={
            "from": None,
            "to": chosen.user_id,
            "to_label": member.user.get_username(),
            "rule": "auto",
        },
    )


# --- changing a case ---------------------------------------------------------------------


def case_transition(
    *,
    case: Case,
    to: CaseStatus | str,
    actor: Actor,
    note: str = "",
    channel: str = Channel.STAFF,
    now: datetime | None = None,
) -> Case:
    """Move a case to status `to`, pausing or resuming its SLA clock as the status requires.

    `note` is shown to the resident with the change. Raise InvalidTransition if the
    lifecycle table forbids the move; use `case_merge` to mark a duplicate.
    """
    target = CaseStatus(to)
    if target == CaseStatus.DUPLICATE:
        raise InvalidMerge("Mark a duplicate by merging it into the case it repeats.")
    at = now or clock.now()
    with transaction.atomic():
        locked = _case_lock(case.pk)
        source = CaseStatus(locked.status)
        transition_check(source, target)
        fields = {"status", "updated_at"}
        events: list[tuple[CaseEventKind, dict[str, Any]]] = []
        sla = _sla_inputs(locked)
        was_paused, now_paused = source in PAUSED_STATUSES, target in PAUSED_STATUSES
        if target == CaseStatus.REOPENED:
            locked.resolved_at = locked.closed_at = locked.breached_at = None
            fields |= {"resolved_at", "closed_at", "breached_at"}
            if sla is not None:
                # A reopened case gets a fresh promise, counted from the reopening.
                _sla_apply(
                    locked, sla_start(received_at=at, target=sla[0], calendar=sla[1]), sla[1]
                )
                fields |= {"due_at", "sla_paused_remaining", "expected_on"}
        elif sla is not None and was_paused != now_paused and target not in FINISHED_STATUSES:
            state = SlaState(due_at=locked.due_at, paused_remaining=locked.sla_paused_remaining)
            if now_paused and state.due_at is not None:
                _sla_apply(
                    locked, sla_pause(state=state, now=at, target=sla[0], calendar=sla[1]), sla[1]
                )
                events.append(
                    (CaseEventKind.PAUSED, {"remaining_s": _seconds(locked.sla_paused_remaining)})
                )
            elif was_paused and state.paused_remaining is not None:
                _sla_apply(
                    locked, sla_resume(state=state, now=at, target=sla[0], calendar=sla[1]), sla[1]
                )
                events.append((CaseEventKind.RESUMED, {"due_at": _iso(locked.due_at)}))
            fields |= {"due_at", "sla_paused_remaining", "expected_on"}
        if target == CaseStatus.ACKNOWLEDGED and locked.acknowledged_at is None:
            locked.acknowledged_at = at
            fields.add("acknowledged_at")
        if target == CaseStatus.RESOLVED or target == CaseStatus.REJECTED:
            locked.resolved_at = at
            fields.add("resolved_at")
        if target == CaseStatus.CLOSED:
            locked.closed_at = at
            fields.add("closed_at")
        locked.status = target
        locked.updated_at = at
        locked.save(update_fields=sorted(fields))
        kind = (
            CaseEventKind.REOPENED
            if target == CaseStatus.REOPENED
            else CaseEventKind.STATUS_CHANGED
        )
        last = _event_append(
            case=locked,
            kind=kind,
            at=at,
            actor=actor,
            channel=channel,
            public=True,
            data={"from": source.value, "to": target.value, "note": note.strip()},
        )
        for extra_kind, data in events:
            last = _event_append(
                case=locked,
                kind=extra_kind,
                at=at,
                actor=actor,
                channel=channel,
                data=data,
                previous=(last.seq, last.hash),
            )
    _copy_state(locked, case)
    return case


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _copy_state(source: Case, dest: Case) -> None:
    """Bring the caller's instance up to date with the locked copy that was saved."""
    for field in Case._meta.concrete_fields:
        setattr(dest, field.attname, getattr(source, field.attname))


def case_assign(
    *, case: Case, assignee: AbstractBaseUser | None, actor: Actor, now: datetime | None = None
) -> Case:
    """Give a case to `assignee` (None to return it to the department's queue).

    Raise InvalidCaseInput if the case is finished.
    """
    at = now or clock.now()
    with transaction.atomic():
        locked = _case_lock(case.pk)
        if locked.status not in OPEN_STATUSES:
            raise InvalidCaseInput(
                "Only open cases can be assigned.", details={"assignee": ["The case is finished."]}
            )
        previous_id = locked.assignee_id
        locked.assignee_id = assignee.pk if assignee is not None else None
        locked.updated_at = at
        locked.save(update_fields=["assignee", "updated_at"])
        _event_append(
            case=locked,
            kind=CaseEventKind.ASSIGNED,
            at=at,
            actor=actor,
            channel=Channel.STAFF,
            data={
                "from": previous_id,
                "to": locked.assignee_id,
                "to_label": assignee.get_username() if assignee is not None else "",
            },
        )
    _copy_state(locked, case)
    return case


def case_note_add(
    *,
    case: Case,
    text: str,
    actor: Actor,
    public: bool = False,
    channel: str = Channel.STAFF,
    now: datetime | None = None,
) -> CaseEvent:
    """Add an internal note, or with `public=True` an update the resident sees.

    Raise InvalidCaseInput if the text is empty.
    """
    if not text.strip():
        raise InvalidCaseInput("A note needs some text.", details={"text": ["Write something."]})
    at = now or clock.now()
    with transaction.atomic():
        locked = _case_lock(case.pk)
        locked.updated_at = at
        locked.save(update_fields=["updated_at"])
        return _event_append(
            case=locked,
            kind=CaseEventKind.PUBLIC_UPDATE if public else CaseEventKind.NOTE,
            at=at,
            actor=actor,
            channel=channel,
            public=public,
            data={"text": text.strip()},
        )


def case_priority_change(
    *, case: Case, priority: str, actor: Actor, now: datetime | None = None
) -> Case:
    """Change a case's priority; its promise restarts at the new priority's SLA target.

    A running clock gets a new due date counted from now; a paused one keeps waiting with
    the full new target left. Raise InvalidCaseInput for an unknown priority or a
    finished case.
    """
    if priority not in Priority.values:
        raise InvalidCaseInput(
            "Unknown priority.", details={"priority": [f"Choose one of {Priority.values}."]}
        )
    at = now or clock.now()
    with transaction.atomic():
        locked = _case_lock(case.pk)
        if locked.status not in OPEN_STATUSES:
            raise InvalidCaseInput(
                "Only open cases can change priority.",
                details={"priority": ["The case is finished."]},
            )
        previous = locked.priority
        locked.priority = priority
        locked.updated_at = at
        sla = _sla_inputs(locked)
        if sla is not None:
            state = sla_start(received_at=at, target=sla[0], calendar=sla[1])
            if locked.status in PAUSED_STATUSES:
                state = SlaState(due_at=None, paused_remaining=sla[0].target)
            _sla_apply(locked, state, sla[1])
            locked.breached_at = None
        locked.save(
            update_fields=[
                "priority",
                "updated_at",
                "due_at",
                "sla_paused_remaining",
                "expected_on",
                "breached_at",
            ]
        )
        _event_append(
            case=locked,
            kind=CaseEventKind.PRIORITY_CHANGED,
            at=at,
            actor=actor,
            channel=Channel.STAFF,
            data={"from": previous, "to": priority, "due_at": _iso(locked.due_at)},
        )
    _copy_state(locked, case)
    return case


def case_due_change(
    *, case: Case, due_at: datetime, reason: str, actor: Actor, now: datetime | None = None
) -> Case:
    """Move a running case's due date (a supervisor's decision), with the reason on record.

    The resident's expected date follows, and they see the new date (not the reason).
    Raise InvalidCaseInput for a finished or paused case, a date in the past or no reason.
    """
    at = now or clock.now()
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = [_("Say why the date changes.")]
    if due_at <= at:
        errors["due_at"] = [_("Choose a date and time in the future.")]
    if errors:
        raise InvalidCaseInput(_("The due date could not be changed."), details=errors)
    with transaction.atomic():
        locked = _case_lock(case.pk)
        if locked.status not in OPEN_STATUSES or locked.status in PAUSED_STATUSES:
            raise InvalidCaseInput(
                _("The due date could not be changed."),
                details={"due_at": [_("Only a running case has a due date to move.")]},
            )
        previous = locked.due_at
        locked.due_at = due_at
        sla = _sla_inputs(locked)
        tz = sla[1].tz if sla is not None else due_at.tzinfo
        locked.expected_on = due_at.astimezone(tz).date()
        locked.breached_at = None
        locked.updated_at = at
        locked.save(update_fields=["due_at", "expected_on", "breached_at", "updated_at"])
        _event_append(
            case=locked,
            kind=CaseEventKind.DUE_CHANGED,
            at=at,
            actor=actor,
            channel=Channel.STAFF,
            public=True,
            data={
                "from": _iso(previous),
                "to": _iso(due_at),
                "expected_on": locked.expected_on.isoformat(),
                "reason": reason.strip(),
            },
        )
    _copy_state(locked, case)
    return case


def case_transfer(
    *, case: Case, department: Any, reason: str, actor: Actor, now: datetime | None = None
) -> Case:
    """Hand an open case to another department of the same council; it joins their queue.

    Raise InvalidCaseInput for a finished case, the same department, another council's
    department or no reason.
    """
    at = now or clock.now()
    with transaction.atomic():
        locked = _case_lock(case.pk)
        errors: dict[str, list[str]] = {}
        if not reason.strip():
            errors["reason"] = [_("Say why the case moves.")]
        if department.pk == locked.department_id:
            errors["department"] = [_("Choose another department.")]
        elif department.jurisdiction_id != locked.service_type.jurisdiction_id:
            errors["department"] = [_("Choose a department of the same council.")]
        if locked.status not in OPEN_STATUSES:
            errors["department"] = [_("Only an open case can move.")]
        if errors:
            raise InvalidCaseInput(_("The case could not be transferred."), details=errors)
        previous = locked.department
        locked.department_id = department.pk
        locked.assignee_id = None
        locked.updated_at = at
        locked.save(update_fields=["department", "assignee", "updated_at"])
        _event_append(
            case=locked,
            kind=CaseEventKind.TRANSFERRED,
            at=at,
            actor=actor,
            channel=Channel.STAFF,
            data={
                "from": previous.code,
                "from_label": previous.name,
                "to": department.code,
                "to_label": department.name,
                "reason": reason.strip(),
            },
        )
    _copy_state(locked, case)
    case.department = department
    return case


def case_service_change(
    *,
    case: Case,
    service_type: ServiceType,
    actor: Actor,
    reason: str = "",
    now: datetime | None = None,
) -> Case:
    """Re-file an open case under another service (triage got it wrong, or the resident
    chose badly): it moves to that service's department and queue, and its due date is
    worked out again from when it was received under the new service's SLA.

    Raise InvalidCaseInput for a finished case, the same service, an inactive one or
    another council's.
    """
    at = now or clock.now()
    with transaction.atomic():
        locked = _case_lock(case.pk)
        errors: dict[str, list[str]] = {}
        if service_type.pk == locked.service_type_id:
            errors["service"] = [_("Choose another service.")]
        elif service_type.jurisdiction_id != locked.service_type.jurisdiction_id:
            errors["service"] = [_("Choose a service of the same council.")]
        elif not service_type.active:
            errors["service"] = [_("That service is not taking requests.")]
        if locked.status not in OPEN_STATUSES:
            errors["service"] = [_("Only an open case can move.")]
        if errors:
            raise InvalidCaseInput(_("The case could not be moved."), details=errors)
        previous = locked.service_type
        previous_department = locked.department
        locked.service_type = service_type
        locked.department_id = service_type.department_id
        fields = ["service_type", "department", "updated_at"]
        if service_type.department_id != previous_department.pk:
            locked.assignee_id = None
            fields.append("assignee")
        sla = _sla_inputs(locked)
        if sla is not None and locked.status not in PAUSED_STATUSES:
            _sla_apply(
                locked,
                sla_start(received_at=locked.opened_at, target=sla[0], calendar=sla[1]),
                sla[1],
            )
            fields += ["due_at", "sla_paused_remaining", "expected_on"]
        locked.updated_at = at
        locked.save(update_fields=fields)
        _event_append(
            case=locked,
            kind=CaseEventKind.TRANSFERRED,
            at=at,
            actor=actor,
            channel=Channel.STAFF,
            data={
                "from_service": previous.code,
                "to_service": service_type.code,
                "from": previous_department.code,
                "from_label": previous_department.name,
                "to": locked.department.code,
                "to_label": locked.department.name,
                "reason": reason.strip(),
                "due_at": _iso(locked.due_at),
            },
        )
    _copy_state(locked, case)
    case.service_type = service_type
    case.department = locked.department
    case.due_at, case.expected_on = locked.due_at, locked.expected_on
    return case


def case_time_log(
    *, case: Case, user: Any, minutes: int, note: str = "", now: datetime | None = None
) -> TimeEntry:
    """Record `minutes` of `user`'s time on `case` (1 minute to 24 hours per entry)."""
    if not 1 <= minutes <= 24 * 60:
        raise InvalidCaseInput(
            _("The time could not be recorded."),
            details={"minutes": [_("Enter between 1 and 1440 minutes.")]},
        )
    at = now or clock.now()
    return TimeEntry.objects.create(
        case=case,
        user=user,
        minutes=minutes,
        worked_on=timezone.localdate(at),
        note=note.strip()[:200],
        created_at=at,
    )


def case_split(
    *,
    case: Case,
    service_type: ServiceType,
    description: str,
    actor: Actor,
    answers: Mapping[str, object] | None = None,
    now: datetime | None = None,
) -> Case:
    """Open a new case for part of `case` (another service, same resident and place).

    Both cases record the split (public: the resident sees where that part went); the new
    case has its own SLA. Raise InvalidCaseInput (nothing written) if the original is
    finished or the new case's details are not valid.
    """
    if case.status not in OPEN_STATUSES:
        raise InvalidCaseInput(
            _("The case could not be split."),
            details={"service": [_("Only an open case can be split.")]},
        )
    at = now or clock.now()
    with transaction.atomic():
        new = case_open(
            service_type=service_type,
            channel=case.channel,
            description=description,
            answers=dict(answers or {}),
            lat=case.lat,
            long=case.long,
            address=case.address,
            address_id=case.address_id,
            reporter=case.reporter,
            actor=actor,
            opened_at=at,
        )
        locked = _case_lock(case.pk)
        locked.updated_at = at
        locked.save(update_fields=["updated_at"])
        _event_append(
            case=locked,
            kind=CaseEventKind.SPLIT,
            at=at,
            actor=actor,
            channel=Channel.STAFF,
            public=True,
            data={"to": new.reference, "to_id": new.pk, "service": service_type.code},
        )
        _event_append(
            case=_case_lock(new.pk),
            kind=CaseEventKind.SPLIT,
            at=at,
            actor=actor,
            channel=Channel.STAFF,
            public=True,
            data={"from": case.reference, "from_id": case.pk},
        )
    return new


def case_watch(*, case: Case, user: Any, watching: bool = True) -> bool:
    """Start (or stop) `user` watching `case`; return whether they watch it now."""
    if watching:
        CaseWatcher.objects.get_or_create(case=case, user=user)
    else:
        CaseWatcher.objects.filter(case=case, user=user).delete()
    return watching


def case_merge(*, case: Case, into: Case, actor: Actor, now: datetime | None = None) -> Case:
    """Mark `case` a duplicate of `into`, recording the merge on both cases.

    Raise InvalidMerge if they are the same case or `into` is itself a duplicate;
    InvalidTransition if `case` can no longer become a duplicate.
    """
    if case.pk == into.pk:
        raise InvalidMerge("A case cannot be merged into itself.")
    at = now or clock.now()
    with transaction.atomic():
        # Lock in primary-key order so two opposite merges cannot deadlock.
        first, second = sorted([case.pk, into.pk])
        locked = {first: _case_lock(first), second: _case_lock(second)}
        duplicate, target = locked[case.pk], locked[into.pk]
        if target.status == CaseStatus.DUPLICATE:
            raise InvalidMerge("That case is itself a duplicate; merge into the case it points to.")
        source = CaseStatus(duplicate.status)
        transition_check(source, CaseStatus.DUPLICATE)
        duplicate.status = CaseStatus.DUPLICATE
        duplicate.merged_into = target
        duplicate.resolved_at = at
        duplicate.updated_at = at
        duplicate.save(update_fields=["status", "merged_into", "resolved_at", "updated_at"])
        _event_append(
            case=duplicate,
            kind=CaseEventKind.MERGED,
            at=at,
            actor=actor,
            channel=Channel.STAFF,
            public=True,
            data={"from": source.value, "into": target.reference, "into_id": target.pk},
        )
        # Whoever followed the duplicate now follows the case that carries on.
        already = CaseFollower.objects.filter(case=target, citizen__isnull=False).values(
            "citizen_id"
        )
        CaseFollower.objects.filter(case=duplicate, citizen_id__in=already).delete()
        moved = CaseFollower.objects.filter(case=duplicate).update(case=target)
        if duplicate.reporter_id is not None and duplicate.reporter_id != target.reporter_id:
            CaseFollower.objects.get_or_create(
                case=target, citizen_id=duplicate.reporter_id, defaults={"via": FollowVia.ME_TOO}
            )
        target.updated_at = at
        target.save(update_fields=["updated_at"])
        _event_append(
            case=target,
            kind=CaseEventKind.MERGED,
            at=at,
            actor=actor,
            channel=Channel.STAFF,
            data={
                "duplicate": duplicate.reference,
                "duplicate_id": duplicate.pk,
                "followers_moved": moved,
            },
        )
    _copy_state(duplicate, case)
    return case


# --- what residents add: photos, "me too", "not fixed" -------------------------------------


def case_photos_add(
    *,
    case: Case,
    photos: Sequence[CleanPhoto],
    actor: Actor = None,
    channel: str = Channel.WEB,
    now: datetime | None = None,
) -> list[CasePhoto]:
    """Store cleaned photos (see cases.photos) on `case` with one public PHOTO_ADDED event.

    The files are written before the rows; if the rows cannot be written the files are
    removed again, so a failure leaves neither orphans nor half a case.
    """
    if not photos:
        return []
    at = now or clock.now()
    names: list[str] = []
    try:
        for photo in photos:
            names.append(
                default_storage.save(
                    photo_path(None, f"photo.{photo.extension}"), ContentFile(photo.content)
                )
            )
        with transaction.atomic():
            locked = _case_lock(case.pk)
            rows = CasePhoto.objects.bulk_create(
                CasePhoto(
                    case=locked,
                    file=name,
                    content_type=photo.content_type,
                    width=photo.width,
                    height=photo.height,
                    size=len(photo.content),
                    sha256=photo.sha256,
                    lat=photo.lat,
                    long=photo.long,
                    created_at=at,
                )
                for name, photo in zip(names, photos, strict=True)
            )
            locked.updated_at = at
            locked.save(update_fields=["updated_at"])
            _event_append(
                case=locked,
                kind=CaseEventKind.PHOTO_ADDED,
                at=at,
                actor=actor,
                channel=channel,
                public=True,
                data={"count": len(rows), "sha256": [p.sha256 for p in photos]},
            )
    except BaseException:
        for name in names:
            default_storage.delete(name)
        raise
    return rows


def case_follow(
    *,
    case: Case,
    citizen: Citizen | None,
    via: str = FollowVia.ME_TOO,
    channel: str = Channel.WEB,
    now: datetime | None = None,
    voice: str = "",
) -> tuple[Case, bool]:
    """Add a follower to `case` ("this is my problem too", or updates wanted).

    A duplicate is followed through to the case it was merged into. Return the case
    followed and whether anything changed: a citizen who already follows it (or reported
    it) is not added twice, nor a second voice from the same browser session (`voice`,
    an opaque key); a citizen whose session already spoke anonymously takes that voice
    over instead of adding one. Raise InvalidCaseInput for a closed case: nothing to
    follow.
    """
    at = now or clock.now()
    with transaction.atomic():
        locked = _case_lock(case.pk)
        hops = 0
        while locked.status == CaseStatus.DUPLICATE and locked.merged_into_id and hops < 10:
            locked, hops = _case_lock(locked.merged_into_id), hops + 1
        if locked.status == CaseStatus.CLOSED:
            raise InvalidCaseInput(
                _("This request is closed."),
                details={"case": [_("This request is closed: report the problem again.")]},
            )
        if citizen is not None and (
            locked.reporter_id == citizen.pk
            or CaseFollower.objects.filter(case=locked, citizen=citizen).exists()
        ):
            if voice:  # this person is counted already: their session's voice goes
                CaseFollower.objects.filter(case=locked, voice=voice, citizen=None).delete()
            return locked, False
        if voice:
            spoken = CaseFollower.objects.filter(case=locked, voice=voice).first()
            if spoken is not None:
                if citizen is None or spoken.citizen_id is not None:
                    return locked, False
                # The same session now gives a confirmed address: one voice, now reachable.
                spoken.citizen = citizen
                spoken.save(update_fields=["citizen"])
                return locked, False
        CaseFollower.objects.create(
            case=locked, citizen=citizen, via=via, voice=voice, created_at=at
        )
        locked.updated_at = at
        locked.save(update_fields=["updated_at"])
        _event_append(
            case=locked,
            kind=CaseEventKind.FOLLOWED,
            at=at,
            actor=None,
            channel=channel,
            public=via == FollowVia.ME_TOO,
            data={"via": via, "citizen_id": citizen.pk if citizen else None},
        )
    return locked, True


def case_reopen_window_open(case: Case, *, now: datetime | None = None) -> bool:
    """True if a resident may still say "not fixed" about `case`."""
    if case.status != CaseStatus.RESOLVED or case.resolved_at is None:
        return False
    limit = timedelta(days=settings.TOWNHALL_REOPEN_DAYS)
    return (now or clock.now()) - case.resolved_at <= limit


def case_reopen_by_resident(
    *, case: Case, reason: str, channel: str = Channel.WEB, now: datetime | None = None
) -> Case:
    """Reopen a resolved case because the resident says it is not fixed.

    Allowed within TOWNHALL_REOPEN_DAYS of the resolution; the reason is required and
    goes on the case's public history (personal details masked: the history is public),
    where staff see it in the reopened queue. Raise InvalidCaseInput otherwise.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidCaseInput(
            _("Tell us what is still wrong."),
            details={"reason": [_("Tell us what is still wrong.")]},
        )
    if len(reason) > 2000:
        raise InvalidCaseInput(
            _("That is too long."), details={"reason": [_("Keep it under 2,000 characters.")]}
        )
    if not case_reopen_window_open(case, now=now):
        raise InvalidCaseInput(
            _("This request can no longer be reopened online."),
            details={
                "reason": [
                    _("This request can no longer be reopened online: please report it again.")
                ]
            },
        )
    return case_transition(
        case=case,
        to=CaseStatus.REOPENED,
        actor=None,
        note=_public_text(reason),
        channel=channel,
        now=now,
    )


# --- periodic work -----------------------------------------------------------------------


def _supervisors_by_department() -> dict[int, list[Any]]:
    """Active supervisors and department admins of each department, for escalations."""
    rows = (
        DepartmentMember.objects.filter(
            user__is_active=True,
            user__groups__name__in=[StaffRole.SUPERVISOR.value, StaffRole.DEPARTMENT_ADMIN.value],
        )
        .select_related("user")
        .distinct()
    )
    out: dict[int, list[Any]] = {}
    for member in rows:
        out.setdefault(member.department_id, []).append(member.user)
    return out


SCAN_BATCH = 500


def case_sla_scan(*, now: datetime | None = None, batch: int = SCAN_BATCH) -> int:
    """Record an SLA_BREACHED event on every running case past its due date, escalated to
    its department's supervisors; return how many.

    Works in batches: each locks up to `batch` overdue cases (skipping any another
    transaction holds: the next scan takes them), appends their events in one insert and
    marks them in one update. Each supervisor gets one e-mail per scan listing their newly
    breached cases (after the events are committed; a mail failure never undoes them).
    """
    at = now or clock.now()
    running = OPEN_STATUSES - PAUSED_STATUSES
    supervisors: dict[int, list[Any]] | None = None
    digest: dict[int, tuple[Any, list[str]]] = {}
    count = 0
    while True:
        with transaction.atomic():
            rows = list(
                Case.objects.select_for_update(skip_locked=True)
                .filter(status__in=running, due_at__lt=at, breached_at__isnull=True)
                .order_by("pk")
                .values_list("pk", "department_id", "due_at", "opened_at")[:batch]
            )
            if not rows:
                break
            if supervisors is None:
                supervisors = _supervisors_by_department()
            ids = [row[0] for row in rows]
            last = {
                case_id: (seq, digest_hash)
                for case_id, seq, digest_hash in CaseEvent.objects.filter(
                    case_id__in=ids,
                    seq=Subquery(
                        CaseEvent.objects.filter(case_id=OuterRef("case_id"))
                        .order_by("-seq")
                        .values("seq")[:1]
                    ),
                ).values_list("case_id", "seq", "hash")
            }
            events = []
            for case_id, department_id, due_at, opened_at in rows:
                escalated = supervisors.get(department_id, [])
                shell = Case(pk=case_id, opened_at=opened_at)
                events.append(
                    _event_build(
                        case=shell,
                        kind=CaseEventKind.SLA_BREACHED,
                        at=at,
                        actor=None,
                        channel=Channel.STAFF,
                        previous=last.get(case_id, (0, GENESIS_HASH)),
                        data={
                            "due_at": _iso(due_at),
                            "overdue_s": (at - due_at).total_seconds() if due_at else 0.0,
                            "escalated_to": [u.get_username() for u in escalated],
                        },
                    )
                )
                for user in escalated:
                    digest.setdefault(user.pk, (user, []))[1].append(shell.reference)
            CaseEvent.objects.bulk_create(events)
            _personal_save(events)
            Case.objects.filter(pk__in=ids).update(breached_at=at)
            if case_event_wanted(CaseEventKind.SLA_BREACHED):
                for event in events:
                    case_event_publish(event)
            count += len(rows)
        if len(rows) < batch:
            break
    for user, references in digest.values():
        _escalation_mail(user, references)
    logger.info("SLA scan at %s: %d case(s) newly breached", at.isoformat(), count)
    return count


def _escalation_mail(user: Any, references: list[str]) -> None:
    # Through the outbox: cases cannot import notify, so notify names its handler in
    # settings (notify.staff_mail.sla_escalation_queue), as for case-event subscribers.
    from django.utils.module_loading import import_string

    handler = getattr(settings, "TOWNHALL_SLA_ESCALATION_HANDLER", "")
    if not handler:
        return
    try:
        import_string(handler)(user=user, references=references)
    except Exception:  # the escalation is on record in each case; the mail is a courtesy
        logger.exception("could not queue the SLA escalation to %s", user.get_username())


def case_acknowledge_pending(*, limit: int = 500, now: datetime | None = None) -> int:
    """Acknowledge up to `limit` new cases, oldest first; return how many were acknowledged."""
    waiting = Case.objects.filter(status=CaseStatus.NEW).order_by("pk").values_list("pk", flat=True)
    return sum(case_acknowledge(case_id=case_id, now=now) for case_id in waiting[:limit])


# --- private links, public text, confirmed follows -----------------------------------------


def case_link_rotate(
    *, case: Case, actor: Actor = None, channel: str = Channel.STAFF, now: datetime | None = None
) -> Case:
    """Replace the case's private tracking link: a new random key, so every link given
    before stops working at once. Recorded as an internal event (no key in it)."""
    at = now or clock.now()
    with transaction.atomic():
        locked = _case_lock(case.pk)
        locked.track_key = secrets.token_hex(8)
        locked.updated_at = at
        locked.save(update_fields=["track_key", "updated_at"])
        _event_append(
            case=locked,
            kind=CaseEventKind.LINK_ROTATED,
            at=at,
            actor=actor,
            channel=channel,
            data={"by": "staff" if channel == Channel.STAFF else "resident"},
        )
    return locked


def case_public_summary_set(
    *, case: Case, summary: str, actor: Actor, now: datetime | None = None
) -> Case:
    """Set (or, with "", clear) the summary staff approved for publication in place of
    the resident's masked words. Raise InvalidCaseInput if it is too long."""
    summary = summary.strip()
    if len(summary) > DESCRIPTION_MAX:
        raise InvalidCaseInput(
            _("The summary could not be saved."),
            details={"summary": [_("Keep this under %(n)s characters.") % {"n": DESCRIPTION_MAX}]},
        )
    at = now or clock.now()
    with transaction.atomic():
        locked = _case_lock(case.pk)
        if locked.public_summary == summary:
            return locked
        locked.public_summary = summary
        locked.updated_at = at
        locked.save(update_fields=["public_summary", "updated_at"])
        _event_append(
            case=locked,
            kind=CaseEventKind.SUMMARY_CHANGED,
            at=at,
            actor=actor,
            channel=Channel.STAFF,
            data={"summary": summary},
        )
    return locked


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def follow_request_create(
    *,
    case: Case,
    email: str,
    via: str = FollowVia.SUBSCRIBED,
    language: str = "",
    voice: str = "",
    now: datetime | None = None,
) -> tuple[FollowRequest, str]:
    """Record a wish to follow `case` by e-mail until the address is confirmed; return it
    and the secret for its confirmation link (only its hash is stored). Nobody follows
    anything yet. Raise InvalidCaseInput for a closed case."""
    if case.status == CaseStatus.CLOSED:
        raise InvalidCaseInput(
            _("This request is closed."),
            details={"case": [_("This request is closed: report the problem again.")]},
        )
    token = secrets.token_urlsafe(24)
    made = FollowRequest.objects.create(
        case=case,
        email=email.strip().lower(),
        via=via,
        language=language[:10],
        voice=voice,
        token_hash=_token_hash(token),
        created_at=now or clock.now(),
    )
    return made, token


def follow_requests_recent(*, email: str, hours: int = 24, now: datetime | None = None) -> int:
    """How many confirmations `email` was sent in the last `hours` (one index range)."""
    since = (now or clock.now()) - timedelta(hours=hours)
    return FollowRequest.objects.filter(email=email.strip().lower(), created_at__gte=since).count()


def follow_request_get(*, token: str, now: datetime | None = None) -> FollowRequest:
    """The pending request a confirmation link names; raise CaseNotFound if there is
    none, it was used or it is older than TOWNHALL_FOLLOW_CONFIRM_HOURS."""
    hours = settings.TOWNHALL_FOLLOW_CONFIRM_HOURS
    since = (now or clock.now()) - timedelta(hours=hours)
    found = (
        FollowRequest.objects.select_related("case")
        .filter(token_hash=_token_hash(token), confirmed_at__isnull=True, created_at__gte=since)
        .first()
    )
    if found is None:
        raise CaseNotFound("No such confirmation.")
    return found


def follow_request_confirm(
    *, request: FollowRequest, citizen: Citizen, now: datetime | None = None
) -> tuple[Case, bool]:
    """The address was confirmed: `citizen` (whose it is) follows the case now. The link
    works once."""
    at = now or clock.now()
    with transaction.atomic():
        used = FollowRequest.objects.filter(pk=request.pk, confirmed_at__isnull=True).update(
            confirmed_at=at
        )
        if not used:
            raise CaseNotFound("No such confirmation.")
        return case_follow(
            case=request.case, citizen=citizen, via=request.via, voice=request.voice, now=at
        )


# --- erasure (privacy requests and retention) ---------------------------------------------

ERASURE_NOTE = "Personal data erased"


def _coarse(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(value, decimals)


def case_personal_data_clear(
    *,
    case_ids: Sequence[int],
    actor: Actor,
    reason: str,
    coord_decimals: int,
    now: datetime | None = None,
) -> dict[str, int]:
    """Remove the personal data of the cases `case_ids`; keep them for statistics.

    Cleared: the description, answers, address and its gazetteer id, the media link, the
    reporter, the followers' identities (their "me too" stays as an anonymous count) and
    the photos (rows now, files after commit). The service, department, dates, status,
    priority and the location rounded to `coord_decimals` stay. Each case gets one
    internal NOTE event through the normal append path, saying only that its personal
    data was erased and why (`reason` is a fixed word such as "request" or "retention",
    never personal data). Events themselves are never changed. Return counts per kind.
    """
    at = now or clock.now()
    counts = {"cases": 0, "photos": 0, "followers": 0}
    files: list[str] = []
    with transaction.atomic():
        for case_id in sorted(set(case_ids)):
            try:
                locked = _case_lock(case_id)
            except CaseNotFound:
                continue
            photos = list(CasePhoto.objects.filter(case_id=case_id).values_list("pk", "file"))
            files.extend(name for _pk, name in photos if name)
            CasePhoto.objects.filter(pk__in=[pk for pk, _name in photos]).delete()
            counts["photos"] += len(photos)
            counts["followers"] += CaseFollower.objects.filter(
                case_id=case_id, citizen__isnull=False
            ).update(citizen=None)
            locked.description = ""
            locked.public_description = ""
            locked.public_summary = ""
            locked.answers = {}
            locked.address = ""
            locked.address_id = ""
            locked.media_url = ""
            locked.reporter = None
            locked.lat = _coarse(locked.lat, coord_decimals)
            locked.long = _coarse(locked.long, coord_decimals)
            locked.updated_at = at
            locked.save(
                update_fields=[
                    "description",
                    "public_description",
                    "public_summary",
                    "answers",
                    "address",
                    "address_id",
                    "media_url",
                    "reporter",
                    "lat",
                    "long",
                    "updated_at",
                ]
            )
            _event_append(
                case=locked,
                kind=CaseEventKind.NOTE,
                at=at,
                actor=actor,
                channel=Channel.STAFF,
                data={"text": f"{ERASURE_NOTE} ({reason}).", "erased": reason},
            )
            counts["cases"] += 1

        def remove_files() -> None:
            for name in files:
                try:
                    default_storage.delete(name)
                except OSError:
                    logger.warning("could not delete an erased photo file")

        transaction.on_commit(remove_files)
    return counts


def follow_requests_forget(*, emails: Sequence[str]) -> int:
    """Delete the pending and used follow confirmations of these addresses; return how many."""
    wanted = [e.strip().lower() for e in emails if e.strip()]
    if not wanted:
        return 0
    deleted, _ = FollowRequest.objects.filter(email__in=wanted).delete()
    return deleted


def case_follows_anonymise(*, citizen_id: int) -> int:
    """Keep a resident's "me too" and follows as anonymous counts; return how many."""
    return CaseFollower.objects.filter(citizen_id=citizen_id).update(citizen=None)


# --- the ledger: personal values and seals ---------------------------------------------------


def personal_data_erase(case_ids: Sequence[int]) -> int:
    """Delete the personal values (and their salts) of every event of these cases; return
    how many values went. The chains still verify: they hold only commitments. Readers
    show "(removed)" in their place. (The case row's own description and address are the
    caller's to redact: they are not part of any chain.)"""
    if not case_ids:
        return 0
    deleted, _ = CaseEventPersonal.objects.filter(case_id__in=list(case_ids)).delete()
    return deleted


def ledger_seal(*, now: datetime | None = None) -> Any:
    """Seal every case chain's head into today's signed root (see cases.seals). A refusal
    (no key, or a history that no longer matches the previous seal) goes on the security
    log before it is raised."""
    from townhall.cases.seals import SealRefused
    from townhall.cases.seals import ledger_seal as seal

    try:
        return seal(now=now)
    except SealRefused as exc:
        security_event(
            SecurityEventKind.OTHER,
            subject="ledger seal refused",
            detail={"reason": str(exc), "breaks": len(exc.breaks)},
        )
        raise
