"""The read replica (DATABASE_REPLICA_URL, core/routers.py): the dashboards and Open311's
GET operations read from it, writes and transactions never do (without a replica:
test_replica_off.py). On PostgreSQL the replica is a second connection to the same (test)
database, as the TEST MIRROR setting makes it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext

from tests.console.conftest import _staff, signed_in
from tests.insights.dash_data import fact
from townhall.cases.models import Case
from townhall.cases.services import case_open
from townhall.catalog.models import Department
from townhall.core.routers import REPLICA, ReplicaRouter, reading_from_replica
from townhall.people.roles import StaffRole

ON_POSTGRES = "postgresql" in django_settings.DATABASES["default"]["ENGINE"]
pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="the replica is a second connection to one PostgreSQL database"
)


@pytest.fixture(scope="module", autouse=True)
def replica() -> Iterator[str]:
    """DATABASES["replica"]: a second connection to the default (test) database, there
    before each test's database set-up (which must list it to allow its queries)."""
    if not ON_POSTGRES:
        yield REPLICA
        return
    databases = connections.settings
    added = REPLICA not in databases
    if added:
        mirror = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
        mirror["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
        databases[REPLICA] = mirror
    try:
        yield REPLICA
    finally:
        connections[REPLICA].close()
        if added:
            del connections[REPLICA]
            del databases[REPLICA]


def _tables(queries: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
def test_open311_searches_read_from_the_replica(replica: str, client: Any, pothole: Any) -> None:
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="Hole"
    )
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        listing = client.get("/open311/v2/requests.json")
        one = client.get(f"/open311/v2/requests/{case.reference}.json")
        services = client.get("/open311/v2/services.json")
    assert listing.status_code == 200 and one.status_code == 200, one.content
    assert services.status_code == 200
    assert [r["service_request_id"] for r in listing.json()] == [case.reference]
    assert one.json()[0]["service_request_id"] == case.reference
    assert '"cases_case"' in _tables(on_replica)
    assert '"catalog_servicetype"' in _tables(on_replica)
    assert '"cases_case"' not in _tables(on_primary)


@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
def test_the_dashboard_reads_figures_from_the_replica_and_sign_in_from_the_primary(
    replica: str, pothole: Any
) -> None:
    fact(pothole, area="Ward 1", status="new")
    keisha = _staff("keisha", StaffRole.CASEWORKER, Department.objects.get(code="dpw"))
    client = signed_in(keisha)
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        response = client.get("/console/insights/")
    assert response.status_code == 200
    assert "Ward 1" in response.content.decode()
    assert '"insights_casefact"' in _tables(on_replica)
    assert '"insights_casefact"' not in _tables(on_primary)
    # who is signed in never comes from a copy that may be a moment behind
    assert '"django_session"' in _tables(on_primary)
    assert '"django_session"' not in _tables(on_replica)
    assert '"auth_user"' not in _tables(on_replica)


@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
def test_writes_and_reads_in_a_transaction_stay_on_the_primary(replica: str, pothole: Any) -> None:
    router = ReplicaRouter()
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        reading_from_replica(),
    ):
        assert router.db_for_read(Case) == REPLICA
        assert router.db_for_write(Case) == DEFAULT_DB_ALIAS
        with transaction.atomic():
            case = case_open(
                service_type=pothole, channel="web", answers={"size": "small"}, description="x"
            )
            assert router.db_for_read(Case) is None  # the transaction's own writes
            assert Case.objects.filter(pk=case.pk).exists()  # visible: read on the primary
        read = Case.objects.get(pk=case.pk)  # outside: from the replica
        assert read._state.db == REPLICA
        read.description = "changed"
        read.save()  # a row read from the replica is written to the primary
    assert Case.objects.get(pk=case.pk).description == "changed"
    sql = _tables(on_replica)
    assert "SELECT" in sql and "UPDATE" not in sql and "INSERT" not in sql
