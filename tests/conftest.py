"""Shared fixtures: a small real catalogue built through the services, staff and residents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import factory
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import translation

from tests.browser import chromium_launched
from townhall.catalog.selectors import catalog_cache_clear
from townhall.catalog.services import catalog_import
from townhall.core.ratelimit import rate_limits_reset
from townhall.core.tasks import scheduled_runs_forget
from townhall.forwarding.routing import routing_cache_clear
from townhall.intake.selectors_finder import finder_cache_clear
from townhall.intake.selectors_triage import triage_classifier_cache_clear
from townhall.knowledge.selectors import knowledge_index_clear
from townhall.open311.keys import api_key_cache_clear
from townhall.payments.fees import fee_services_clear
from townhall.people.roles import StaffRole
from townhall.people.services import citizen_resolve, staff_user_create
from townhall.places.selectors import places_cache_clear
from townhall.vision.services import vision_cache_clear

# In parallel runs each worker has its own Redis database (conf/storage.py); what a test
# starts (a bench, a second Townhall) and reads REDIS_URL itself gets that one too.
if settings.REDIS_URL:
    os.environ["REDIS_URL"] = settings.REDIS_URL

SMALL_TOWN: dict[str, Any] = {
    "jurisdiction": {
        "slug": "testville",
        "name": "Testville Council",
        "open311_id": "testville.example.org",
        "timezone": "America/New_York",
        "country": "US",
        "subdivision": "MA",
        "centre": {"lat": 42.36, "long": -71.09},
    },
    "calendar": {
        "name": "Town Hall hours",
        "workdays": [0, 1, 2, 3, 4],
        "opens": "09:00",
        "closes": "17:00",
        "closures": [{"date": "2026-12-24", "reason": "Christmas Eve"}],
    },
    "departments": [
        {"code": "dpw", "name": "Public Works", "translations": {"es": {"name": "Obras Públicas"}}},
        {"code": "isd", "name": "Inspectional Services"},
    ],
    "groups": [
        {"code": "streets", "name": "Streets", "translations": {"es": {"name": "Calles"}}},
        {"code": "housing", "name": "Housing"},
    ],
    "service_types": [
        {
            "code": "pothole",
            "name": "Pothole",
            "translations": {"es": {"name": "Bache", "keywords": ["hoyo en la calle"]}},
            "group": "streets",
            "department": "dpw",
            "sla": [
                {"priority": "normal", "hours": 16, "clock": "business"},
                {"priority": "urgent", "hours": 4, "clock": "elapsed"},
            ],
            "attributes": [
                {
                    "code": "size",
                    "datatype": "singlevaluelist",
                    "required": True,
                    "description": "How big is it?",
                    "values": [
                        {"key": "small", "name": "Small"},
                        {"key": "large", "name": "Large"},
                    ],
                    "translations": {
                        "es": {"description": "¿De qué tamaño es?", "values": {"small": "Pequeño"}}
                    },
                },
                {
                    "code": "depth_cm",
                    "datatype": "number",
                    "required": False,
                    "description": "Depth",
                },
            ],
        },
        {
            "code": "no_heat",
            "name": "No heat",
            "group": "housing",
            "department": "isd",
            "sla": [{"priority": "normal", "hours": 24, "clock": "elapsed"}],
            "attributes": [],
        },
    ],
}


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    # A request in Spanish leaves Spanish active in this thread (LocaleMiddleware activates
    # and nothing deactivates): every test starts, and ends, in the site's language.
    translation.deactivate()
    cache.clear()
    rate_limits_reset()
    catalog_cache_clear()
    routing_cache_clear()
    api_key_cache_clear()
    places_cache_clear()
    scheduled_runs_forget()
    triage_classifier_cache_clear()
    vision_cache_clear()
    fee_services_clear()
    finder_cache_clear()  # kept a minute in production: another test's catalogue otherwise
    knowledge_index_clear()  # keyed by a generation number that every test starts again
    yield
    translation.deactivate()
    catalog_cache_clear()
    routing_cache_clear()
    api_key_cache_clear()
    places_cache_clear()
    scheduled_runs_forget()
    triage_classifier_cache_clear()
    fee_services_clear()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for a module's browser tests (tests/browser.py)."""
    yield from chromium_launched()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def town(db: None) -> Any:
    jurisdiction, _ = catalog_import(spec=SMALL_TOWN)
    return jurisdiction


@pytest.fixture
def pothole(town: Any) -> Any:
    return town.services.select_related("department").get(code="pothole")


@pytest.fixture
def no_heat(town: Any) -> Any:
    return town.services.select_related("department").get(code="no_heat")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True


@pytest.fixture
def caseworker(db: None) -> Any:
    return staff_user_create(username="cw", role=StaffRole.CASEWORKER, password="pw-for-tests-1")


@pytest.fixture
def resident(db: None) -> Any:
    return citizen_resolve(name="Rosa Reporter", email="rosa@example.org", phone="617-555-0199")
