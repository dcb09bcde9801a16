"""Who hears about case events: subscribers named in settings, called inside the transaction.

Cases know nothing of the apps above them (notifications, later surveys). Each of those
names a function and the event kinds it wants in TOWNHALL_CASE_EVENT_SUBSCRIBERS; every
such event is handed to it in the transaction that records the event, so whatever the
subscriber writes (an outbox row) commits or rolls back with the event itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from townhall.cases.models import CaseEvent

Subscriber = Callable[[CaseEvent], None]


@functools.cache
def _subscribers() -> dict[str, tuple[Subscriber, ...]]:
    by_kind: dict[str, list[Subscriber]] = {}
    for path, kinds in settings.TOWNHALL_CASE_EVENT_SUBSCRIBERS.items():
        subscriber = import_string(path)
        for kind in kinds:
            by_kind.setdefault(kind, []).append(subscriber)
    return {kind: tuple(subs) for kind, subs in by_kind.items()}


def case_event_wanted(kind: str) -> bool:
    """Return whether any subscriber wants events of `kind`."""
    return kind in _subscribers()


def case_event_publish(event: CaseEvent) -> None:
    """Hand `event` to every subscriber of its kind; call inside the event's transaction."""
    for subscriber in _subscribers().get(event.kind, ()):
        subscriber(event)


def case_event_subscribers_reset() -> None:
    """Forget the loaded subscribers (after changing the setting in tests)."""
    _subscribers.cache_clear()
