"""Fixtures for applying after a check: a council whose energy grant and planning
permission can be applied for online (intake.ApplicationService), Sarah signed in."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from PIL import Image

from tests.conftest import SMALL_TOWN
from townhall.catalog.services import catalog_import
from townhall.intake.models import ApplicationService
from townhall.people.services import citizen_email_prove

ELIGIBLE = {
    "lives_in_town": "yes",
    "owner_occupier": "yes",
    "household_size": "2",
    "household_income": "45,000",
    "year_built": "1975",
    "work_type": "insulation",
    "cost": "10000",
}
NOT_ELIGIBLE = {**ELIGIBLE, "year_built": "2015"}
FENCE = [("what", "fence"), ("fence_height", "yes")]  # planning permission, $462
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

GRANT_SERVICE = {
    "code": "energy_grant",
    "name": "Home energy grant application",
    "group": "housing",
    "department": "isd",
    "sla": [{"priority": "normal", "hours": 80, "clock": "business"}],
    # A question for each of the programme's inputs, under the same code: the case keeps
    # every answer, so the caseworker's appointment page can check eligibility again.
    "attributes": [
        {
            "code": "lives_in_town",
            "datatype": "singlevaluelist",
            "description": "Lives in town",
            "values": [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}],
        },
        {"code": "year_built", "datatype": "number", "description": "Year built"},
        {"code": "cost", "datatype": "number", "description": "Quote"},
        {"code": "household_size", "datatype": "number", "description": "Household size"},
        {"code": "household_income", "datatype": "number", "description": "Yearly income"},
        {
            "code": "owner_occupier",
            "datatype": "singlevaluelist",
            "description": "Owner-occupier",
            "values": [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}],
        },
        {
            "code": "work_type",
            "datatype": "singlevaluelist",
            "description": "Work",
            "values": [
                {"key": k, "name": k} for k in ("insulation", "heat_pump", "windows", "solar")
            ],
        },
    ],
}
PLANNING_SERVICE = {
    "code": "planning",
    "name": "Planning permission application",
    "group": "housing",
    "department": "isd",
    "sla": [{"priority": "normal", "hours": 400, "clock": "business"}],
    "attributes": [],
}


def jpeg() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (320, 240), (200, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def council(town: Any) -> Any:
    spec = copy.deepcopy(SMALL_TOWN)
    spec["service_types"] += [GRANT_SERVICE, PLANNING_SERVICE]
    jurisdiction, _ = catalog_import(spec=spec)
    return jurisdiction


@pytest.fixture
def grant(council: Any) -> ApplicationService:
    return ApplicationService.objects.create(
        service_type=council.services.get(code="energy_grant"),
        programme="energy_subsidy",
        documents=[
            {
                "code": "quote",
                "label": {"en": "The installer's written quote", "es": "El presupuesto"},
            },
            {"code": "photo", "label": {"en": "A photo of the home"}, "required": False},
        ],
    )


@pytest.fixture
def planning(council: Any) -> ApplicationService:
    return ApplicationService.objects.create(
        service_type=council.services.get(code="planning"),
        permit="home_improvements:planning_permission",
    )


@pytest.fixture
def sarah(db: None) -> Any:
    return citizen_email_prove(email="sarah@example.org", language="en", proof="test")


@pytest.fixture
def mallory(db: None) -> Any:
    return citizen_email_prove(email="mallory@example.org", language="en", proof="test")
