"""Importing another body's Open311 catalogue over real HTTP: service types, questions and
mappings created once, updated in place, bad records skipped whole, dry runs change nothing.

The answers are written for these tests in the shapes real GeoReport v2 servers send:
numeric service codes, "metadata" as a boolean or the string "true", empty keywords, group
names with "&" and ",", list values with numeric keys (as Bloomington's uReport serves), and
the attribute definition of the GeoReport v2 specification's own example.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.forwarding.fake_remote import FakeRemote, serve
from tests.forwarding.sync_fixtures import body_make
from townhall.catalog.models import AttributeDefinition, ServiceGroup, ServiceType
from townhall.forwarding.catalog_import import body_catalog_import, code_safe
from townhall.forwarding.client import RemoteError
from townhall.forwarding.models import Body, RoutingRule, ServiceMapping
from townhall.forwarding.routing import route_body_id

pytestmark = pytest.mark.django_db

PORT = 8203

SERVICES: list[dict[str, Any]] = [
    {
        "service_code": 37,
        "service_name": "Graffiti",
        "description": "Report graffiti on public or private structures",
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "Cleanup & Sanitation",
    },
    {
        "service_code": 25,
        "service_name": "Potholes, Other Street Repair",
        "description": "Report potholes and other issues involving streets in need of repair.",
        "metadata": False,
        "type": "realtime",
        "keywords": "pothole, road, street",
        "group": "Streets, Parking & Traffic",
    },
    {
        "service_code": "001",
        "service_name": "Cans left out 24x7",
        "description": "Garbage or recycling cans that have been left out for more than 24 hours.",
        "metadata": "true",
        "type": "batch",
        "keywords": "lorem, ipsum, dolor",
        "group": "sanitation",
    },
]

DEFINITIONS: dict[str, Any] = {
    "37": {
        "service_code": 37,
        "attributes": [
            {
                "variable": True,
                "code": "surface",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": None,
                "order": 1,
                "description": "What is the graffiti on?",
                "values": [{"key": 1, "name": "Building"}, {"key": 2, "name": "Bridge"}],
            },
            {
                "variable": True,
                "code": "Offensive Content",
                "datatype": "string",
                "required": False,
                "order": 2,
                "description": "Is it offensive?",
            },
        ],
    },
    "001": {
        "service_code": "001",
        "attributes": [
            {
                "variable": True,
                "code": "WHISPERED",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": None,
                "order": 1,
                "description": "What is the ticket/tag/DL number?",
                "values": [
                    {"key": 123, "name": "Ford"},
                    {"key": 124, "name": "Chrysler"},
                ],
            }
        ],
    },
}


@pytest.fixture
def remote() -> Iterator[FakeRemote]:
    fake = FakeRemote(services=copy.deepcopy(SERVICES), definitions=copy.deepcopy(DEFINITIONS))
    yield from serve(fake, PORT)


@pytest.fixture
def body(town: Any, remote: FakeRemote) -> Body:
    return body_make("county", endpoint=remote.url)


def run(body: Body, town: Any, **kwargs: Any) -> Any:
    return body_catalog_import(
        body=body, jurisdiction=town, department=town.departments.get(code="dpw"), **kwargs
    )


def test_import_creates_service_types_questions_and_mappings(
    body: Body, town: Any, remote: FakeRemote
) -> None:
    report = run(body, town)
    assert sorted(report.created) == ["county-001", "county-25", "county-37"]
    assert report.skipped == []
    graffiti = ServiceType.objects.get(jurisdiction=town, code="county-37")
    assert graffiti.name == "Graffiti" and graffiti.department.code == "dpw"
    assert graffiti.group.name == "Cleanup & Sanitation"
    surface, offensive = graffiti.attributes.order_by("order")
    assert (surface.code, surface.datatype, surface.required) == (
        "surface",
        "singlevaluelist",
        True,
    )
    assert surface.values == [{"key": "1", "name": "Building"}, {"key": "2", "name": "Bridge"}]
    assert offensive.code == "offensive-content" and offensive.datatype == "string"
    mapping = ServiceMapping.objects.get(body=body, service_type=graffiti)
    assert mapping.remote_code == "37"
    assert mapping.attributes == {"surface": "surface", "offensive-content": "Offensive Content"}
    cans = ServiceType.objects.get(code="county-001")
    assert cans.open311_type == "batch" and cans.keywords == ["lorem", "ipsum", "dolor"]
    potholes = ServiceType.objects.get(code="county-25")
    assert potholes.attributes.count() == 0  # metadata false: no definition asked for
    assert not any("services/25" in c for c in remote.calls)


def test_running_twice_changes_nothing(body: Body, town: Any, remote: FakeRemote) -> None:
    run(body, town)
    before = {s.pk: s.updated_at for s in ServiceType.objects.all()}
    attrs = list(AttributeDefinition.objects.values())
    report = run(body, town)
    assert report.created == [] and report.updated == []
    assert sorted(report.unchanged) == ["county-001", "county-25", "county-37"]
    assert {s.pk: s.updated_at for s in ServiceType.objects.all()} == before
    assert list(AttributeDefinition.objects.values()) == attrs
    assert ServiceMapping.objects.count() == 3


def test_a_changed_service_is_updated_in_place_keeping_what_staff_set(
    body: Body, town: Any, remote: FakeRemote
) -> None:
    run(body, town)
    graffiti = ServiceType.objects.get(code="county-37")
    isd = town.departments.get(code="isd")
    ServiceType.objects.filter(pk=graffiti.pk).update(
        department=isd, translations={"es": {"name": "Grafiti"}}, duplicate_radius_m=10
    )
    remote.services[0]["service_name"] = "Graffiti removal"
    remote.definitions["37"]["attributes"][1]["required"] = True
    report = run(body, town)
    assert report.updated == ["county-37"]
    graffiti.refresh_from_db()
    assert graffiti.name == "Graffiti removal"
    assert graffiti.department == isd and graffiti.translations == {"es": {"name": "Grafiti"}}
    assert graffiti.duplicate_radius_m == 10
    assert graffiti.attributes.get(code="offensive-content").required is True
    assert ServiceType.objects.filter(code__startswith="county-").count() == 3


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda s, d: s[0].update(service_name=""), "no service_name"),
        (lambda s, d: s[0].update(type="sometimes"), "unknown type"),
        (lambda s, d: s[0].update(metadata="maybe"), "metadata"),
        (lambda s, d: d["37"]["attributes"][0].update(datatype="picture"), "unknown datatype"),
        (lambda s, d: d["37"]["attributes"][0].update(values=[]), "no values"),
        (lambda s, d: d["37"]["attributes"][0].update(order="first"), "order"),
        (lambda s, d: d["37"].update(attributes="none"), "not a list"),
        (lambda s, d: d["37"].update(service_code=38), "definition is for service"),
        (lambda s, d: d.pop("37"), "could not be read"),
        (
            lambda s, d: d["37"]["attributes"].append(
                {"code": "SURFACE", "datatype": "string", "description": "again"}
            ),
            "read the same",
        ),
    ],
)
def test_a_bad_record_is_skipped_whole_and_the_rest_imported(
    body: Body, town: Any, remote: FakeRemote, change: Any, why: str
) -> None:
    change(remote.services, remote.definitions)
    report = run(body, town)
    [(code, reason)] = report.skipped
    assert code == "37" and why in reason, reason
    assert not ServiceType.objects.filter(code="county-37").exists()
    assert not AttributeDefinition.objects.filter(service_type__code="county-37").exists()
    assert sorted(report.created) == ["county-001", "county-25"]


def test_junk_in_the_service_list_is_reported(body: Body, town: Any, remote: FakeRemote) -> None:
    remote.services += ["junk", 7, {"service_code": 25, "service_name": "Twice"}, {}]
    report = run(body, town)
    reasons = [why for _, why in report.skipped]
    assert reasons.count("not an object") == 2
    assert "listed twice" in reasons and "no service_code" in reasons
    assert len(report.created) == 3


def test_dry_run_changes_nothing(body: Body, town: Any) -> None:
    groups = ServiceGroup.objects.count()
    report = run(body, town, dry_run=True, route=True)
    assert len(report.created) == 3 and report.routed == 3
    assert not ServiceType.objects.filter(code__startswith="county-").exists()
    assert ServiceGroup.objects.count() == groups
    assert not ServiceMapping.objects.exists() and not RoutingRule.objects.exists()


def test_route_adds_the_services_to_the_body_rule(body: Body, town: Any) -> None:
    report = run(body, town, route=True)
    assert report.routed == 3
    graffiti = ServiceType.objects.get(code="county-37")
    assert route_body_id(service_type_id=graffiti.pk, lat=None, long=None) == body.pk
    assert run(body, town, route=True).routed == 0  # idempotent
    assert RoutingRule.objects.filter(body=body).count() == 1


def test_a_group_of_ours_takes_the_new_services(body: Body, town: Any) -> None:
    streets = ServiceGroup.objects.get(jurisdiction=town, code="streets")
    run(body, town, group=streets)
    assert set(
        ServiceType.objects.filter(code__startswith="county-").values_list("group__code", flat=True)
    ) == {"streets"}


def test_unreachable_body_raises(town: Any) -> None:
    body = body_make("gone", endpoint="http://127.0.0.1:8209/open311/v2/")
    with pytest.raises(RemoteError):
        run(body, town)
    assert not ServiceType.objects.filter(code__startswith="gone-").exists()


@pytest.mark.parametrize(
    ("raw", "prefix", "ok"),
    [
        ("37", "county", "county-37"),
        ("Offensive Content", "", "offensive-content"),
        ("../../etc", "", "etc"),
        ("Ämter", "", "amter"),
    ],
)
def test_code_safe(raw: str, prefix: str, ok: str) -> None:
    assert code_safe(raw, prefix=prefix) == ok


@pytest.mark.parametrize("raw", ["", "!!!", "x" * 200, "日本語"])
def test_code_safe_always_gives_a_valid_code(raw: str) -> None:
    code = code_safe(raw, prefix="county")
    assert 0 < len(code) <= 60 and code[0].isalnum() and code == code.lower()
    assert code == code_safe(raw, prefix="county")  # stable


def test_command(body: Body, town: Any) -> None:
    out = StringIO()
    call_command(
        "forwarding_catalog_import",
        "county",
        "--department",
        "dpw",
        "--dry-run",
        "--verbosity",
        "0",
        stdout=out,
    )
    assert "3 would be created" in out.getvalue() and "Dry run" in out.getvalue()
    assert not ServiceType.objects.filter(code__startswith="county-").exists()
    call_command(
        "forwarding_catalog_import",
        "county",
        "--department",
        "dpw",
        "--route",
        "--verbosity",
        "0",
        stdout=out,
    )
    assert ServiceType.objects.filter(code__startswith="county-").count() == 3
    with pytest.raises(CommandError, match="Say which with --department"):
        call_command("forwarding_catalog_import", "county", "--verbosity", "0")
    with pytest.raises(CommandError, match="No body"):
        call_command("forwarding_catalog_import", "nobody", "--verbosity", "0")
    with pytest.raises(CommandError, match="No group"):
        call_command(
            "forwarding_catalog_import",
            "county",
            "--department",
            "dpw",
            "--group",
            "zz",
            "--verbosity",
            "0",
        )
