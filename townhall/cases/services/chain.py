"""A case's event chain, and the one way a service changes a case: lock, change, append.

Every write to a case holds the case's row lock, saves the fields it changes and appends
the event that says so, all in one transaction: `case_change` (or `CaseChange` where the
caller locks the cases itself) is that step, written once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from townhall.cases.dispatch import case_event_publish
from townhall.cases.errors import CaseNotFound
from townhall.cases.ledger import GENESIS_HASH, event_hash, personal_split
from townhall.cases.models import Case, CaseEvent, CaseEventKind, CaseEventPersonal
from townhall.core.security import SecurityEventKind, security_event
from townhall.people.models import Channel

Actor = AbstractBaseUser | None


def event_build(
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


def personal_save(events: Sequence[CaseEvent]) -> None:
    """Write the personal values of events just inserted (one statement, if any)."""
    rows = []
    for event in events:
        for row in event._personal_rows:
            row.event = event
            rows.append(row)
    if rows:
        CaseEventPersonal.objects.bulk_create(rows)


def event_append(
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
    """Append an event to `case`'s chain. The caller holds the case's row lock.

    `previous` is the (seq, hash) of the chain's last event when the caller knows it;
    otherwise it is read.
    """
    if previous is None:
        last = (
            CaseEvent.objects.filter(case_id=case.pk)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        previous = last if last is not None else (0, GENESIS_HASH)
    event = event_build(
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
    personal_save([event])
    case_event_publish(event)
    return event


def case_lock(case_id: int) -> Case:
    """Return the case with its row locked until the transaction ends; CaseNotFound if none."""
    try:
        return (
            Case.objects.select_for_update(of=("self",))
            .select_related("service_type", "department")
            .get(pk=case_id)
        )
    except Case.DoesNotExist as exc:
        raise CaseNotFound(_("No such case.")) from exc


def iso(value: datetime | None) -> str | None:
    """ISO text of a moment for an event's data (None stays None)."""
    return value.isoformat() if value is not None else None


def copy_state(source: Case, dest: Case) -> None:
    """Bring the caller's instance up to date with the locked copy that was saved."""
    for field in Case._meta.concrete_fields:
        setattr(dest, field.attname, getattr(source, field.attname))


class CaseChange:
    """One change to one locked case: the fields it sets and the events that record it.

    Contract:
    - `case` is locked (`case_lock`) by the caller, in the transaction that is open now;
      `case_change` does both for the usual one-case change.
    - `set(name=value, ...)` changes fields of `case` in memory and remembers them (field
      names or attnames such as `assignee_id`).
    - `append(kind, data, public=...)` first saves the remembered fields, with `updated_at`
      moved to `at`, in one UPDATE (none if nothing changed), then appends the event, chained
      to the one appended before it in this change (no re-read of the chain) and handed to
      the subscribers in the same transaction. It returns the event.
    - Nothing is written without an event: fields set after the last `append` are a bug,
      and `case_change` raises rather than drop them silently. Raising anything inside the
      change rolls all of it back.
    """

    def __init__(self, case: Case, *, at: datetime, actor: Actor, channel: str) -> None:
        self.case = case
        self.at = at
        self.actor = actor
        self.channel = channel
        self.events: list[CaseEvent] = []
        self._unsaved: set[str] = set()

    def set(self, **values: Any) -> None:
        """Change fields of the locked case; they are saved by the next `append`."""
        for name, value in values.items():
            setattr(self.case, name, value)
            self._unsaved.add(Case._meta.get_field(name).name)

    @property
    def unsaved(self) -> frozenset[str]:
        """The fields set since the last `append` (empty once it has saved them)."""
        return frozenset(self._unsaved)

    def append(
        self,
        kind: CaseEventKind,
        data: dict[str, Any] | None = None,
        *,
        public: bool = False,
        channel: str | None = None,
    ) -> CaseEvent:
        """Save the fields set so far and append the event that records the change (through
        the change's channel unless `channel` is given)."""
        if self.case.updated_at != self.at:
            self.set(updated_at=self.at)
        if self._unsaved:
            self.case.save(update_fields=sorted(self._unsaved))
            self._unsaved.clear()
        last = self.events[-1] if self.events else None
        event = event_append(
            case=self.case,
            kind=kind,
            at=self.at,
            actor=self.actor,
            channel=channel or self.channel,
            data=data,
            public=public,
            previous=(last.seq, last.hash) if last is not None else None,
        )
        self.events.append(event)
        return event


@contextmanager
def case_change(
    case_id: int,
    *,
    at: datetime,
    actor: Actor,
    channel: str = Channel.STAFF,
    refresh: Case | None = None,
) -> Iterator[CaseChange]:
    """Open a transaction, lock case `case_id` and yield a `CaseChange` on it.

    The body checks the locked case (raise to refuse: nothing is written), `set`s fields
    and `append`s events. On a normal exit the transaction commits and, if `refresh` is
    given and an event was appended, that instance (usually the caller's own copy of the
    case) gets the saved state. Raise CaseNotFound if there is no such case.
    """
    with transaction.atomic():
        change = CaseChange(case_lock(case_id), at=at, actor=actor, channel=channel)
        yield change
        if change.unsaved:
            raise RuntimeError(f"case fields set but no event appended: {sorted(change.unsaved)}")
    if refresh is not None and change.events:
        copy_state(change.case, refresh)


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
