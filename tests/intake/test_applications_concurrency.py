"""A double click on "Send the application", on PostgreSQL: many threads send the same
draft at once; one case is opened and every send answers with it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from tests.intake.applying import ELIGIBLE, PDF, council, grant, sarah
from townhall.cases.models import Case
from townhall.intake.application_drafts import application_start
from townhall.intake.applications import Upload, application_submit
from townhall.intake.models import InboundMessage

__all__ = ["council", "grant", "sarah"]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are exercised on PostgreSQL (DATABASE_URL); SQLite has one writer")


def test_sends_at_once_open_one_case(grant: Any, sarah: Any) -> None:
    token = application_start(citizen=sarah, rule_id="energy_subsidy", answers=ELIGIBLE)
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    cases: list[int] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait()
            done = application_submit(
                token=token, citizen=sarah, uploads=[Upload("quote", "q.pdf", PDF)]
            )
            cases.append(done.case.pk)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(cases) == threads_n and len(set(cases)) == 1
    assert Case.objects.count() == 1
    assert InboundMessage.objects.filter(external_id__startswith="application:").count() == 1
