"""Messages the demo town receives that the classifier is not sure about: they wait in the
console's triage queue, so staff have something to triage on the first visit.

They go through the intake pipeline like any e-mail or text (the senders are the demo's
residents, the places addresses of its gazetteer), so what they show is what it does.
"""

from __future__ import annotations

import random
from typing import Any

from townhall.intake.messages import Message, Place, Sender
from townhall.intake.models import ReviewStatus, TriageReview
from townhall.intake.services import intake_accept
from townhall.people.models import Channel

# Everyday wording that could be one of several services (checked against the demo's
# classifier: each stays under the confidence at which a case is routed by itself).
UNSURE_MESSAGES = [
    (Channel.EMAIL, "Building site", "Who do I talk to about the mess and the noise from the "
     "building site on our road? It starts before 7 every morning."),
    (Channel.EMAIL, "Park entrance", "Water everywhere near the park entrance and the bins are "
     "knocked over."),
    (Channel.SMS, "", "The thing at the corner by the school is broken again and it is getting "
     "dangerous."),
    (Channel.EMAIL, "Still not sorted", "Something is wrong outside number 14 and it has been "
     "like this for a week. Can someone come and look?"),
]  # fmt: skip


def demo_triage_seed(
    *, rng: random.Random, citizens: list[dict[str, Any]], places: list[dict[str, str]]
) -> int:
    """Send the demo's unsure messages through intake; return how many wait in triage."""
    senders = [c for c in citizens if c.get("email") and c.get("phone")]
    for (channel, subject, text), person in zip(
        UNSURE_MESSAGES, rng.sample(senders, len(UNSURE_MESSAGES)), strict=True
    ):
        place = rng.choice(places)
        intake_accept(
            Message(
                channel=channel,
                sender=Sender(
                    email=person["email"] if channel == Channel.EMAIL else "",
                    phone=person["phone"] if channel == Channel.SMS else "",
                    name=person["name"],
                ),
                subject=subject,
                text=text,
                place=Place(
                    lat=float(place["lat"]), long=float(place["long"]), address=place["address"]
                ),
            )
        )
    return TriageReview.objects.filter(status=ReviewStatus.PENDING).count()
