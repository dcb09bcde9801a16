"""Opening cases: a resident's new request (`case_open`), or one another system already
handled (`case_import`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Field, Model
from django.utils.translation import gettext as _

from townhall.cases.dispatch import case_event_publish, case_event_wanted
from townhall.cases.errors import InvalidCaseInput
from townhall.cases.ledger import GENESIS_HASH
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.redaction import public_text
from townhall.cases.services.chain import Actor, event_append, event_build, iso, personal_save
from townhall.cases.services.deadlines import case_sla, sla_columns
from townhall.catalog.attributes import answers_clean
from townhall.catalog.models import Priority, ServiceType
from townhall.catalog.selectors import attribute_specs_for
from townhall.core import clock
from townhall.core.db import KeyReservations, rows_insert_together
from townhall.core.errors import ValidationFailed
from townhall.core.tasks import enqueue_once_on_commit
from townhall.people.models import Channel, Citizen

DESCRIPTION_MAX = 10_000
_case_keys = KeyReservations(Case)
_event_keys = KeyReservations(CaseEvent)

Problems = dict[str, list[str]]


def _max_length(name: str) -> int | None:
    field = Case._meta.get_field(name)
    return field.max_length if isinstance(field, Field) else None


def _location_check(problems: Problems, lat: float | None, long: float | None) -> None:
    if (lat is None) != (long is None):
        problems["location"] = [_("Give both latitude and longitude, or neither.")]
    elif lat is not None and long is not None and not (-90 <= lat <= 90 and -180 <= long <= 180):
        problems["location"] = [_("Latitude must be within ±90 and longitude within ±180.")]


def _lengths_check(problems: Problems, texts: Iterable[tuple[str, str, int | None]]) -> None:
    """Note every (field, value, limit) whose value is longer than its limit."""
    for field, value, limit in texts:
        if limit is not None and len(value) > limit:
            problems[field] = [_("Keep this under %(n)s characters.") % {"n": limit}]


def public_text_of(description: str) -> str:
    """What may be published of a resident's words: masked once, when written."""
    return public_text(description, region=settings.TOWNHALL_PHONE_REGION)


def _is_web_address(value: str) -> bool:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except DjangoValidationError:
        return False
    return True


def _open_check(
    *,
    service_type: ServiceType,
    channel: str,
    priority: str,
    description: str,
    answers: Mapping[str, object],
    answers_partial: bool,
    lat: float | None,
    long: float | None,
    address: str,
    address_id: str,
    media_url: str,
) -> dict[str, object]:
    """Return the cleaned answers of a new request; raise InvalidCaseInput listing every
    problem at once (see `case_open`)."""
    problems: Problems = {}
    if not service_type.active:
        problems["service_code"] = [_("This service is not taking new requests.")]
    if channel not in Channel.values:
        problems["channel"] = [_("Unknown channel %(channel)s.") % {"channel": repr(channel)}]
    if priority not in Priority.values:
        problems["priority"] = [_("Unknown priority %(priority)s.") % {"priority": repr(priority)}]
    _location_check(problems, lat, long)
    _lengths_check(
        problems,
        (
            ("description", description, DESCRIPTION_MAX),
            ("address_string", address, _max_length("address")),
            ("address_id", address_id, _max_length("address_id")),
            ("media_url", media_url, _max_length("media_url")),
        ),
    )
    if media_url and "media_url" not in problems and not _is_web_address(media_url):
        problems["media_url"] = [_("Give a web address starting with http:// or https://.")]
    clean_answers: dict[str, object] = {}
    try:
        clean_answers = answers_clean(
            specs=attribute_specs_for(service_type=service_type),
            answers=answers,
            partial=answers_partial,
        )
    except ValidationFailed as exc:
        problems.update(exc.details)
    if not description.strip() and not clean_answers and not address and lat is None:
        problems["description"] = [_("Tell us what the problem is or where it is.")]
    if problems:
        raise InvalidCaseInput(_("The request could not be accepted."), details=problems)
    return clean_answers


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
    with_rows: Callable[[Case], Sequence[Model]] | None = None,
) -> Case:
    """Open a case with its OPENED event and SLA due date, written atomically.

    Raise InvalidCaseInput (nothing written) if the service is inactive, the answers do
    not fit the service's questions, the location is out of range, a text is too long or
    the request says nothing at all. `answers_partial` lets required questions go
    unanswered, for channels that cannot ask them (e-mail, SMS, partners' messages).
    `with_rows(case)` returns new rows of the caller's (the message that opened the case)
    to write in the same atomic write as the case, once its key is known; on PostgreSQL
    their keys must be set (core.db.KeyReservations): one statement writes them all.
    """
    clean_answers = _open_check(
        service_type=service_type,
        channel=channel,
        priority=priority,
        description=description,
        answers=answers or {},
        answers_partial=answers_partial,
        lat=lat,
        long=long,
        address=address,
        address_id=address_id,
        media_url=media_url,
    )
    now = opened_at or clock.now()
    case = Case(
        service_type=service_type,
        description=description.strip(),
        public_description=public_text_of(description),
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
    sla = case_sla(case)
    if sla is not None:
        for name, value in sla_columns(sla, sla.start(now)).items():
            setattr(case, name, value)
    _opened_write(case, actor=actor, with_rows=with_rows)
    _dispatch_opened(case)
    return case


def _opened_write(
    case: Case, *, actor: Actor, with_rows: Callable[[Case], Sequence[Model]] | None
) -> None:
    """Insert a new case, its OPENED event and the caller's `with_rows`, atomically."""
    case.pk = _case_keys.take()
    if case.pk is None or case_event_wanted(CaseEventKind.OPENED, case):
        with transaction.atomic():
            case.save(force_insert=True)
            opened = _opened_event(case, actor=actor)
            opened.save(force_insert=True)
            personal_save([opened])
            case_event_publish(opened)
            for row in with_rows(case) if with_rows is not None else ():
                row.save(force_insert=True)
    else:
        # The key is known before writing, so the case and its first event go in one
        # atomic statement: no BEGIN/COMMIT round trips on the busiest write path. (The
        # opened event holds no personal values: the description and address stay on the
        # case row, where erasure can redact them, so there is no third row to write.)
        opened = _opened_event(case, actor=actor)
        opened.pk = _event_keys.take()
        extra = with_rows(case) if with_rows is not None else ()
        rows_insert_together(case, opened, *extra)


def _opened_event(case: Case, *, actor: Actor) -> CaseEvent:
    """The first event of a new case's chain (its key must be known: the hash holds it)."""
    return event_build(
        case=case,
        kind=CaseEventKind.OPENED,
        at=case.opened_at,
        actor=actor,
        channel=case.channel,
        public=True,
        previous=(0, GENESIS_HASH),
        data={
            "service": case.service_type.code,
            "priority": case.priority,
            "due_at": iso(case.due_at),
            "expected_on": case.expected_on.isoformat() if case.expected_on else None,
        },
    )


def _dispatch_opened(case: Case) -> None:
    """Say everything that opening a case triggers: for now, acknowledging it."""
    from townhall.cases.tasks import case_acknowledge_pending_task  # tasks import services

    enqueue_once_on_commit(case_acknowledge_pending_task)


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
    _import_check(
        external_id=external_id,
        description=description,
        lat=lat,
        long=long,
        address=address,
        address_id=address_id,
        media_url=media_url,
    )
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
        _imported_history(
            case, opened_at=opened_at, updated_at=updated_at, finished=finished, notes=status_notes
        )
    return case


def _import_check(
    *,
    external_id: str,
    description: str,
    lat: float | None,
    long: float | None,
    address: str,
    address_id: str,
    media_url: str,
) -> None:
    """Raise InvalidCaseInput listing every problem of a request to import (see `case_import`)."""
    problems: Problems = {}
    if not external_id.strip():
        problems["external_id"] = [_("An imported request needs the id it had.")]
    _location_check(problems, lat, long)
    _lengths_check(
        problems,
        (
            ("external_id", external_id, _max_length("external_id")),
            ("description", description, DESCRIPTION_MAX),
            ("address", address, _max_length("address")),
            ("address_id", address_id, _max_length("address_id")),
            ("media_url", media_url, _max_length("media_url")),
        ),
    )
    if problems:
        raise InvalidCaseInput(_("The request could not be imported."), details=problems)


def _imported_history(
    case: Case, *, opened_at: datetime, updated_at: datetime, finished: bool, notes: str
) -> None:
    """Write what the source tells of an imported case: OPENED, then its closing or note."""
    opened = event_append(
        case=case,
        kind=CaseEventKind.OPENED,
        at=opened_at,
        actor=None,
        channel=case.channel,
        public=True,
        previous=(0, GENESIS_HASH),
        data={"service": case.service_type.code, "imported": case.external_id},
    )
    if finished or notes:
        event_append(
            case=case,
            kind=CaseEventKind.STATUS_CHANGED if finished else CaseEventKind.PUBLIC_UPDATE,
            at=updated_at,
            actor=None,
            channel=case.channel,
            public=True,
            previous=(opened.seq, opened.hash),
            data={"from": "acknowledged", "to": "closed", "note": notes}
            if finished
            else {"text": notes},
        )
