"""Real Boston records, imported as cases and served back identical in every field.

The pages in tests/open311/data/boston are City of Boston GeoReport v2 API responses as
served (see SOURCE.txt there).
"""

from __future__ import annotations

import gzip
import json
from io import StringIO
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from django.test import Client

from tests.open311.test_contract import assert_valid
from townhall.cases.models import Case, CaseEvent
from townhall.cases.selectors import ledger_verify
from townhall.catalog.services import catalog_import

pytestmark = pytest.mark.django_db
PAGES = sorted((Path(__file__).parent / "data" / "boston").glob("*.json.gz"))
FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)

BOSTON: dict[str, Any] = {
    "jurisdiction": {
        "slug": "boston",
        "name": "City of Boston",
        "open311_id": "cityofboston.gov",
        "timezone": "America/New_York",
        "country": "US",
        "subdivision": "MA",
    },
    "calendar": {
        "name": "City Hall",
        "workdays": [0, 1, 2, 3, 4],
        "opens": "09:00",
        "closes": "17:00",
    },
    "departments": [{"code": "bos311", "name": "Boston 311"}],
    "groups": [{"code": "streets", "name": "Streets"}],
    "service_types": [
        {"code": code, "name": name, "group": "streets", "department": "bos311", "attributes": []}
        for code, name in (
            ("4f389210e75084437f0001de", "Abandoned Vehicle"),
            ("4f38920fe75084437f00018d", "Sidewalk Not Shoveled"),
            ("4f38920fe75084437f000192", "Unsafe Dangerous Conditions"),
        )
    ],
}


def source_records() -> list[dict[str, Any]]:
    return [r for page in PAGES for r in json.loads(gzip.decompress(page.read_bytes()))]


@pytest.fixture
def boston(db: Any) -> Any:
    jurisdiction, _ = catalog_import(spec=BOSTON)
    return jurisdiction


def run_import(*paths: Path) -> str:
    out = StringIO()
    call_command(
        "open311_import", *map(str, paths), "--jurisdiction", "cityofboston.gov", stdout=out
    )
    return out.getvalue()


def expected(record: dict[str, Any]) -> dict[str, Any]:
    """What we must serve for `record`: every field it has, as it has it; the fields Boston
    left out are empty here too, but for the agency, which is the council's own department."""
    want = {name: record.get(name) for name in FIELDS}
    want["agency_responsible"] = "Boston 311"
    return want


def test_boston_records_come_back_identical_in_every_field(client: Client, boston: Any) -> None:
    records = source_records()
    assert len(records) == 2544
    summary = run_import(*PAGES)
    unique = {r["service_request_id"]: r for r in records if "service_request_id" in r}
    assert len(unique) == 2443
    # 100 records appear twice in Boston's own pages (identical); one has no id at all.
    assert "2443 imported, 100 already there, 1 rejected" in summary, summary
    assert "service_request_id is missing" in summary
    assert Case.objects.count() == 2443

    ids = sorted(unique)
    served: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        response = client.get("/open311/v2/requests.json", {"service_request_id": ",".join(chunk)})
        assert response.status_code == 200, response.content
        data = response.json()
        assert_valid("requests.json", data)
        served.update((item["service_request_id"], item) for item in data)
    assert sorted(served) == ids
    mismatches = [
        (rid, name, unique[rid].get(name), served[rid][name])
        for rid in ids
        for name in FIELDS
        if served[rid][name] != expected(unique[rid])[name]
    ]
    assert mismatches == []
    # The comparison covered real variety: closed with notes, photos, both DST offsets.
    assert sum(1 for r in unique.values() if r.get("status_notes")) > 1000
    assert sum(1 for r in unique.values() if r.get("media_url")) > 900
    assert {r["requested_datetime"][-6:] for r in unique.values()} == {"-05:00", "-04:00"}


def test_one_boston_request_by_its_own_id_in_json_and_xml(client: Client, boston: Any) -> None:
    page = PAGES[1]  # abandoned vehicles: some closed with a note and a photo
    run_import(page)
    records = json.loads(gzip.decompress(page.read_bytes()))
    record = next(r for r in records if r.get("status_notes") and r.get("media_url"))
    rid = record["service_request_id"]
    data = client.get(f"/open311/v2/requests/{rid}.json").json()
    assert_valid("request.json", data[0])
    assert data == [expected(record)]
    root = ElementTree.fromstring(client.get(f"/open311/v2/requests/{rid}.xml").content)
    request = root.find("request")
    assert request is not None
    for name in FIELDS:
        want = expected(record)[name]
        assert request.findtext(name) == ("" if want is None else str(want)), name


def test_imported_history_is_a_sealed_chain_and_shows_in_the_extensions(
    client: Client, boston: Any
) -> None:
    run_import(PAGES[0])
    checked, breaks = ledger_verify()
    assert breaks == []
    records = json.loads(gzip.decompress(PAGES[0].read_bytes()))
    unique = {r["service_request_id"]: r for r in records}
    # An OPENED event each, then the closing, or the public note of a request still open.
    closing_or_note = sum(
        1 for r in unique.values() if r["status"] == "closed" or r.get("status_notes")
    )
    assert checked == len(unique) + closing_or_note
    record = next(r for r in unique.values() if r["status"] == "closed" and r.get("status_notes"))
    data = client.get(
        f"/open311/v2/requests/{record['service_request_id']}.json", {"extensions": "true"}
    ).json()
    extended = data[0]["extended_attributes"]
    assert extended["detailed_status"] == "closed"
    assert [(n["type"], n["datetime"]) for n in extended["notes"]] == [
        ("opened", record["requested_datetime"]),
        ("status_changed", record["updated_datetime"]),
    ]
    assert extended["notes"][1]["description"] == record["status_notes"]
    assert extended["notes"][1]["status"] == "closed"


def test_importing_again_adds_nothing(boston: Any) -> None:
    run_import(PAGES[0])
    events = CaseEvent.objects.count()
    summary = run_import(PAGES[0])
    assert "0 imported, 544 already there, 0 rejected" in summary, summary
    assert CaseEvent.objects.count() == events


def test_bad_records_are_listed_and_nothing_of_them_is_written(boston: Any, tmp_path: Path) -> None:
    good = {
        "service_request_id": "X-1",
        "status": "open",
        "service_code": "4f38920fe75084437f000192",
        "requested_datetime": "2020-02-12T15:45:42-05:00",
        "lat": 42.3,
        "long": -71.0,
        "zipcode": "02118",
    }
    page = tmp_path / "page.json"
    page.write_text(
        json.dumps(
            [
                good,
                {**good, "service_request_id": "X-2", "service_code": "nope"},
                {**good, "service_request_id": "X-3", "status": "submitted"},
                {**good, "service_request_id": "X-4", "requested_datetime": "yesterday"},
                {**good, "service_request_id": "X-5", "lat": 123.0},
                {**good, "service_request_id": "X-6", "lat": "north"},
                "not an object",
            ]
        )
    )
    summary = run_import(page)
    assert "1 imported, 0 already there, 6 rejected" in summary, summary
    for why in (
        "service_code 'nope' is not in the catalogue",
        "status 'submitted' is neither open nor closed",
        "requested_datetime 'yesterday' is not a W3C date-time",
        "location: Latitude must be within",
        "lat must be a number",
        "a record must be a JSON object",
        "fields not kept: zipcode (6)",
    ):
        assert why in summary
    assert list(Case.objects.values_list("external_id", flat=True)) == ["X-1"]


def test_an_unreadable_file_is_a_clear_error(boston: Any, tmp_path: Path) -> None:
    page = tmp_path / "page.json"
    page.write_text('{"not": "a list"}')
    with pytest.raises(Exception, match="not a JSON array"):
        run_import(page)
