"""Evening-before bin reminders: queue one message per subscription and collection day.

Each message goes through the notification outbox (kind `bin_reminder`, templates per
language, a link that stops the reminder in every message) with the key
``waste:<subscription>:<date>``, so running the sweep again (it runs every few minutes
from the council's reminder time on) never queues a second message for the same day.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import translation
from django_tasks import task

from townhall.core import clock, dates
from townhall.notify.links import subscription_stop_url
from townhall.notify.models import NotificationKind, NotifyChannel
from townhall.notify.queueing import templated_queue
from townhall.people.models import ContactKind
from townhall.people.selectors import citizen_by_contact
from townhall.waste.models import WasteReminder, Zone, ZonePlace
from townhall.waste.selectors import (
    collections_for_zone,
    stream_names,
    waste_config_get,
    waste_timezone,
    zone_for_place,
)

logger = logging.getLogger(__name__)


def waste_reminders_queue(*, now: dt.datetime) -> int:
    """Queue tomorrow's bin reminders if it is past the council's reminder time; return
    how many subscriptions have a message for tomorrow (queued now or before)."""
    config = waste_config_get()
    local = now.astimezone(waste_timezone(config))
    if local.time() < config.reminder_at:
        return 0
    tomorrow = local.date() + dt.timedelta(days=1)
    names = {code: s.name for code, s in stream_names().items()}
    by_zone: dict[int, tuple[str, ...]] = {}
    count = 0
    reminders = list(
        WasteReminder.objects.filter(active=True).select_related("place").order_by("pk")
    )
    assigned = {
        link.place_id: link.zone
        for link in ZonePlace.objects.filter(
            place_id__in={r.place_id for r in reminders}
        ).select_related("zone")
    }
    for reminder in reminders:
        zone: Zone | None = assigned.get(reminder.place_id) or zone_for_place(place=reminder.place)
        if zone is None:
            continue
        if zone.pk not in by_zone:
            found = collections_for_zone(zone=zone, start=tomorrow, end=tomorrow, config=config)
            by_zone[zone.pk] = found[0].streams if found else ()
        streams = [s for s in by_zone[zone.pk] if not reminder.streams or s in reminder.streams]
        if not streams:
            continue
        with translation.override(reminder.language):
            day = dates.long_date(tomorrow)
        channel = NotifyChannel.EMAIL if reminder.email else NotifyChannel.SMS
        to = reminder.email or reminder.phone
        kind = ContactKind.EMAIL if reminder.email else ContactKind.PHONE
        templated_queue(
            key=f"waste:{reminder.pk}:{tomorrow.isoformat()}",
            kind=NotificationKind.BIN_REMINDER,
            channel=channel,
            to=to,
            language=reminder.language,
            # The resident who proved this contact, if any: their opt-outs (a STOP reply,
            # the e-mail's unsubscribe header) stop reminders too.
            citizen=citizen_by_contact(kind=kind, value=to),
            values={
                "day": day,
                "address": reminder.place.address,
                "streams": ", ".join(names.get(s, s) for s in streams),
                "time": config.bins_out_by.strftime("%H:%M"),
                "unsubscribe_url": subscription_stop_url(what="bins", pk=reminder.pk),
            },
        )
        count += 1
    return count


@task()
def waste_reminders_queue_task() -> int:
    """Queue the evening-before bin reminders that are due."""
    logger.info("waste reminders: start")
    count = waste_reminders_queue(now=clock.now())
    logger.info("waste reminders: %d subscriptions reminded", count)
    return count
