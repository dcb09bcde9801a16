"""Load Millbrook, the demo town: catalogue, staff, residents and a few hundred cases.

Everything goes through the domain services, so the demo's cases have real SLA dates
and real, verifiable event chains. The generator is seeded: the same town every time.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.db import transaction

from townhall.appointments.demo import demo_appointments_load
from townhall.cases import services as case_services
from townhall.cases.lifecycle import CaseStatus
from townhall.catalog.boundary import jurisdiction_boundary_set
from townhall.catalog.models import AttributeDefinition, Department, Jurisdiction, ServiceType
from townhall.catalog.services import catalog_import, department_member_add
from townhall.core import clock
from townhall.core.errors import NotFound
from townhall.demo.inbox import demo_triage_seed
from townhall.experience.services import survey_answer_for_case
from townhall.insights.facts import insights_refresh
from townhall.intake.demo_triage import demo_triage_train
from townhall.intake.models import WebhookSource
from townhall.knowledge.demo import demo_knowledge_load
from townhall.notices.demo import demo_notices_load
from townhall.notify.alerts import alert_subscribe, alert_topic_ensure
from townhall.notify.services import notification_templates_install
from townhall.payments.demo import demo_fee_load
from townhall.people.models import Channel, Citizen
from townhall.people.roles import StaffRole
from townhall.people.services import citizen_resolve, staff_user_create
from townhall.places.selectors import places_extent
from townhall.places.services import places_import
from townhall.waste.demo import demo_waste_load

if TYPE_CHECKING:
    from townhall.core.users import StaffUser

DEMO_PASSWORD = "townhall-demo"  # noqa: S105 - printed to the user; demo only
DEMO_SLUG = "millbrook"
BOUNDARY_MARGIN_M = 500.0
DEMO_WEBHOOK_SECRET = "demo-bridge-secret"  # noqa: S105 - demo only; see docs/architecture.md

# Share of cases per channel, close to what MyLA311 and Boston report.
CHANNEL_MIX = [
    (Channel.WEB, 34),
    (Channel.PHONE, 28),
    (Channel.OPEN311, 12),
    (Channel.EMAIL, 9),
    (Channel.SMS, 8),
    (Channel.ASSISTANT, 6),
    (Channel.COUNTER, 3),
]


@dataclass
class DemoSummary:
    loaded: bool
    cases: int
    staff: list[tuple[str, str]]


def town_spec() -> dict[str, Any]:
    """Return the demo town's data file as a dict."""
    text = resources.files("townhall.demo").joinpath("data/town.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def demo_is_loaded() -> bool:
    """Return whether the demo jurisdiction exists already."""
    return Jurisdiction.objects.filter(slug=DEMO_SLUG).exists()


def demo_load(
    *,
    cases: int = 300,
    days: int = 60,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Load the demo town unless it is already there (re-running keeps existing data)."""
    spec = town_spec()
    staff = [(s["username"], s["role"]) for s in spec["staff"]]
    if demo_is_loaded():
        demo_public_services_load(spec, demo_places(spec))  # what an older demo lacks
        return DemoSummary(loaded=False, cases=0, staff=staff)
    rng = random.Random(seed)
    catalog_import(spec=spec)
    # The triage classifier, trained on the demo catalogue's examples (about 2 s), and
    # the help articles with their embeddings (about 3 s).
    demo_triage_train()
    demo_knowledge_load()
    WebhookSource.objects.get_or_create(
        slug="demo-bridge",
        defaults={"name": "Demo social-media bridge", "secret": DEMO_WEBHOOK_SECRET},
    )
    notification_templates_install()
    users = _staff_load(spec)
    citizens = [_citizen_load(c) for c in spec["citizens"]]
    places = demo_places(spec)
    places_import(places, columns={k: k for k in places[0]})
    jurisdiction = spec["jurisdiction"]
    # The town covers its addresses and half a kilometre around them: a report placed
    # further out is refused, pointing at the council that covers it.
    jurisdiction_boundary_set(
        jurisdiction=Jurisdiction.objects.get(slug=DEMO_SLUG),
        boundary=places_extent(margin_m=BOUNDARY_MARGIN_M),
        outside_url=jurisdiction.get("outside_url", ""),
    )
    demo_waste_load(
        places,
        country=jurisdiction["country"],
        subdivision=jurisdiction["subdivision"],
        timezone=jurisdiction["timezone"],
    )
    _alerts_load(rng, spec, places, citizens)
    services = {s.code: s for s in ServiceType.objects.select_related("department")}
    samples = {s["code"]: s["sample_descriptions"] for s in spec["service_types"]}
    workers = [u for u in users if not u.is_superuser]
    now = clock.now()
    latest: dict[str, Any] = {}
    made: list[Any] = []
    for _ in range(cases):
        code = rng.choice(list(samples))
        latest[code] = case = _case_make(
            rng=rng,
            service=services[code],
            text=rng.choice(samples[code]),
            places=places,
            reporter=rng.choice(citizens) if rng.random() < 0.8 else None,
            staff=workers,
            opened_at=now - timedelta(days=days * rng.random() ** 1.3, minutes=rng.randint(0, 600)),
            now=now,
            earlier=latest.get(code),
        )
        made.append(case)
        if progress:
            progress(1)
    case_services.case_sla_scan(now=now)
    # Its own random stream: the triage examples below keep drawing what they always drew.
    _surveys_answer(random.Random(seed + 18), made)
    insights_refresh()  # the dashboards' facts and roll-ups
    demo_triage_seed(rng=rng, citizens=spec["citizens"], places=places)
    demo_public_services_load(spec, places)
    return DemoSummary(loaded=True, cases=cases, staff=staff)


# Issue 21 in the demo: notices (road works on Main Street, a recall, a draft), meetings
# for housing complaints at the town hall, and a fee for bulk item pickups.
MEETING_SERVICE = "housing_code"
MEETING_STAFF = "caseworker.isd"
MEETING_OFFICE = "Millbrook Town Hall"
FEE_SERVICE = "bulk_item_pickup"
FEE_MINOR = 2500


def demo_public_services_load(spec: dict[str, Any], places: list[dict[str, str]]) -> None:
    """The demo's notices, appointment slots and fee, made where missing (safe to repeat)."""
    where = {p["address"]: (float(p["lat"]), float(p["long"])) for p in places}
    demo_notices_load(near=where["12 Main Street"], elsewhere=where["12 Elm Street"])
    demo_appointments_load(
        jurisdiction_slug=DEMO_SLUG,
        service_code=MEETING_SERVICE,
        staff_username=MEETING_STAFF,
        office_name=MEETING_OFFICE,
    )
    demo_fee_load(jurisdiction_slug=DEMO_SLUG, service_code=FEE_SERVICE, amount_minor=FEE_MINOR)


# How the demo's residents answer the survey after a resolution (most never do).
_CSAT = [(5, 40), (4, 30), (3, 12), (2, 10), (1, 8)]
_COMMENTS = {
    5: ["Fixed in two days, thank you!", "Quick and friendly."],
    4: ["Done, though it took a while.", ""],
    3: ["It's fixed but nobody told me when.", ""],
    2: ["Took weeks and I had to chase it twice.", ""],
    1: ["Still not properly fixed. Third time I've reported this!", ""],
}


def _surveys_answer(rng: random.Random, cases: list[Any]) -> None:
    """Answer about 60 % of the surveys the demo's resolutions made (some low: flags)."""
    for case in {c.pk: c for c in cases if c is not None}.values():
        if rng.random() >= 0.6:
            continue
        csat = _weighted(rng, _CSAT)
        try:
            survey_answer_for_case(
                case_id=case.pk,
                csat=csat,
                comment=rng.choice(_COMMENTS[csat]),
                via=case.channel,
            )
        except NotFound:
            continue  # no survey: not resolved, no reporter, or the resident opted out


def _staff_load(spec: dict[str, Any]) -> list[Any]:
    """The demo's staff, each a member of their department; the contact centre's agents
    (no department) are members of every department but are not given cases."""
    users = []
    user_model = get_user_model()
    departments = {d.code: d for d in Department.objects.all()}
    for s in spec["staff"]:
        existing = user_model.objects.filter(username=s["username"]).first()
        user = existing or staff_user_create(
            username=s["username"],
            role=StaffRole(s["role"]),
            password=DEMO_PASSWORD,
            first_name=s.get("first_name", ""),
            last_name=s.get("last_name", ""),
            email=f"{s['username']}@millbrook.example.org",
        )
        users.append(user)
        staff = cast("StaffUser", user)
        if s.get("department"):
            department_member_add(department=departments[s["department"]], user=staff)
        elif s["role"] == StaffRole.AGENT:
            for department in departments.values():
                department_member_add(department=department, user=staff, takes_cases=False)
    return users


ALERT_TOPICS = [
    ("roadworks", "Road works and closures"),
    ("collections", "Changes to bin collections"),
    ("recalls", "Product recalls and safety notices"),
]


def _alerts_load(
    rng: random.Random,
    spec: dict[str, Any],
    places: list[dict[str, str]],
    citizens: list[Citizen],
) -> None:
    topics = [alert_topic_ensure(code=code, name=name) for code, name in ALERT_TOPICS]
    for citizen, c in zip(citizens, spec["citizens"], strict=True):
        if rng.random() > 0.5:
            continue
        lat, long, address, _ = _location(rng, places)
        alert_subscribe(
            citizen=citizen,
            channel="email" if c.get("email") else "sms",
            topic=rng.choice([*topics, None]),
            lat=lat,
            long=long,
            radius_m=rng.choice([300, 500, 1000]),
            address=address,
        )


def _citizen_load(c: dict[str, Any]) -> Citizen:
    return citizen_resolve(
        name=c["name"],
        email=c.get("email"),
        phone=c.get("phone"),
        language=c.get("language"),
        channel=c["channel"],
    )


def _weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _answers(rng: random.Random, service: ServiceType, opened_at: datetime) -> dict[str, object]:
    answers: dict[str, object] = {}
    for a in AttributeDefinition.objects.filter(service_type=service):
        if not a.required and rng.random() < 0.4:
            continue
        keys = [v["key"] for v in a.values]
        if a.datatype == "singlevaluelist":
            answers[a.code] = rng.choice(keys)
        elif a.datatype == "multivaluelist":
            answers[a.code] = rng.sample(keys, k=rng.randint(1, min(2, len(keys))))
        elif a.datatype == "number":
            answers[a.code] = rng.randint(1, 6)
        elif a.datatype == "datetime":
            answers[a.code] = (opened_at - timedelta(hours=rng.randint(1, 30))).isoformat()
        elif a.datatype == "string":
            answers[a.code] = rng.choice(
                ["Blue sedan", "Grey pickup", "See description", "Unknown"]
            )
        else:
            answers[a.code] = "Side gate is unlocked; please ring the bell."
    return answers


HOUSES_PER_STREET = 60
HOUSE_SPACING_M = 18.0


def demo_places(spec: dict[str, Any], *, seed: int = 7) -> list[dict[str, str]]:
    """The demo town's gazetteer as CSV-like rows: every street a straight line across
    the town, houses 1 to 60 along it (odd numbers on one side, even on the other)."""
    rng = random.Random(seed)
    centre = spec["jurisdiction"]["centre"]
    metres_lat = 111_320.0
    metres_long = 111_320.0 * math.cos(math.radians(centre["lat"]))
    rows = []
    for index, street in enumerate(spec["streets"]):
        # A start point within 2 km of the centre and a heading.
        r, theta = 2000 * math.sqrt(rng.random()), rng.random() * 2 * math.pi
        x0, y0 = r * math.sin(theta), r * math.cos(theta)
        heading = rng.random() * math.pi
        dx, dy = math.sin(heading), math.cos(heading)
        for number in range(1, HOUSES_PER_STREET + 1):
            along = ((number + 1) // 2) * HOUSE_SPACING_M
            side = 9.0 if number % 2 else -9.0  # across the road
            x, y = x0 + along * dx + side * dy, y0 + along * dy - side * dx
            postcode = "02139" if x < 0 and y < 0 else "02141" if x >= 0 and y >= 0 else "02140"
            rows.append(
                {
                    "property_id": f"MB-{index + 1:03d}-{number:03d}",
                    "address": f"{number} {street}",
                    "postcode": postcode,
                    "lat": f"{centre['lat'] + y / metres_lat:.6f}",
                    "long": f"{centre['long'] + x / metres_long:.6f}",
                }
            )
    return rows


def _location(rng: random.Random, places: list[dict[str, str]]) -> tuple[float, float, str, str]:
    """A point within about 20 m of a random address of the gazetteer."""
    place = rng.choice(places)
    jitter = 20 / 111_320
    lat = float(place["lat"]) + rng.uniform(-jitter, jitter)
    long = float(place["long"]) + rng.uniform(-jitter, jitter)
    return round(lat, 6), round(long, 6), place["address"], place["property_id"]


def _case_make(
    *,
    rng: random.Random,
    service: ServiceType,
    text: str,
    places: list[dict[str, str]],
    reporter: Citizen | None,
    staff: list[Any],
    opened_at: datetime,
    now: datetime,
    earlier: Any,
) -> Any:
    lat, long, address, address_id = _location(rng, places)
    priority = _weighted(rng, [("normal", 80), ("high", 12), ("low", 5), ("urgent", 3)])
    with transaction.atomic():
        case = case_services.case_open(
            service_type=service,
            channel=_weighted(rng, CHANNEL_MIX),
            description=text,
            answers=_answers(rng, service, opened_at),
            lat=lat,
            long=long,
            address=address,
            address_id=address_id,
            priority=priority,
            reporter=reporter,
            opened_at=opened_at,
        )
        age = now - opened_at
        step = max(age / 8, timedelta(seconds=30))
        moment = [opened_at]

        def tick(scale: float = 1.0) -> datetime:
            # Each step moves forward in time but never past the present.
            moment[0] = min(moment[0] + step * scale * rng.random(), now)
            return moment[0]

        if age < timedelta(hours=2) and rng.random() < 0.5:
            return case  # fresh: the worker will acknowledge it
        case_services.case_acknowledge(case_id=case.pk, now=tick())
        worker = rng.choice(staff)
        fate = rng.random()
        if fate < 0.15:
            return case
        if fate < 0.2 and earlier is not None and earlier.status != CaseStatus.DUPLICATE:
            case_services.case_merge(case=case, into=earlier, actor=worker, now=tick())
            return earlier
        case_services.case_assign(case=case, assignee=worker, actor=worker, now=tick())
        case_services.case_transition(
            case=case, to=CaseStatus.IN_PROGRESS, actor=worker, now=tick()
        )
        if fate < 0.3:
            case_services.case_transition(
                case=case,
                to=CaseStatus.AWAITING_CITIZEN,
                actor=worker,
                note="Could you tell us exactly where this is? A nearby house number helps.",
                now=tick(),
            )
        elif fate < 0.45:
            case_services.case_note_add(
                case=case, text="Crew scheduled; parts on order.", actor=worker, now=tick()
            )
        elif fate < 0.5:
            case_services.case_transition(
                case=case,
                to=CaseStatus.REJECTED,
                actor=worker,
                note="This is on private property, so the owner is responsible for it.",
                now=tick(),
            )
        else:
            case_services.case_transition(
                case=case,
                to=CaseStatus.RESOLVED,
                actor=worker,
                note="Fixed by our crew. Thank you for reporting it.",
                now=tick(3),
            )
            if fate > 0.7 and age > timedelta(days=7):
                case_services.case_transition(
                    case=case, to=CaseStatus.CLOSED, actor=None, now=tick(2)
                )
    return case
