"""Who hears about case events: subscribers named in settings, called inside the transaction.

Cases know nothing of the apps above them (notifications, later surveys). Each of those
names a function and the event kinds it wants in TOWNHALL_CASE_EVENT_SUBSCRIBERS; every
such event is handed to it in the transaction that records the event, so whatever the
subscriber writes (an outbox row) commits or rolls back with the event itself.

A subscriber that cares about a few cases only (a fee owed, a case another body owns) says so
with `@wants(predicate)`: the predicate sees the case before anything is written, and when
no subscriber of OPENED wants a case, the case and its first event are written in one
statement (cases.services.opening), the fast path every Open311 POST takes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from townhall.cases.models import Case, CaseEvent

Subscriber = Callable[[CaseEvent], None]
CasePredicate = Callable[[Case], bool]


def wants(predicate: CasePredicate) -> Callable[[Subscriber], Subscriber]:
    """Mark a subscriber as caring only about cases for which `predicate(case)` is true.

    The predicate runs on every case the event kind concerns, before it is written: keep it
    free of queries (a per-process cache), as payments' and forwarding's are.
    """

    def mark(subscriber: Subscriber) -> Subscriber:
        subscriber.wants = predicate  # type: ignore[attr-defined]
        return subscriber

    return mark


@functools.cache
def _subscribers() -> dict[str, tuple[Subscriber, ...]]:
    by_kind: dict[str, list[Subscriber]] = {}
    for path, kinds in settings.TOWNHALL_CASE_EVENT_SUBSCRIBERS.items():
        subscriber = import_string(path)
        for kind in kinds:
            by_kind.setdefault(kind, []).append(subscriber)
    return {kind: tuple(subs) for kind, subs in by_kind.items()}


def case_event_wanted(kind: str, case: Case | None = None) -> bool:
    """Return whether any subscriber wants events of `kind` (about `case`, if given)."""
    subscribers = _subscribers().get(kind, ())
    if case is None:
        return bool(subscribers)
    return any(_wanted_by(subscriber, case) for subscriber in subscribers)


def _wanted_by(subscriber: Subscriber, case: Case) -> bool:
    predicate: CasePredicate | None = getattr(subscriber, "wants", None)
    return predicate is None or predicate(case)


def case_event_publish(event: CaseEvent) -> None:
    """Hand `event` to every subscriber of its kind; call inside the event's transaction."""
    for subscriber in _subscribers().get(event.kind, ()):
        subscriber(event)


def case_event_subscribers_reset() -> None:
    """Forget the loaded subscribers (after changing the setting in tests)."""
    _subscribers.cache_clear()
