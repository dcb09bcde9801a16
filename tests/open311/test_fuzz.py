"""Fuzz the JSON endpoints with schemathesis against our OpenAPI description: no 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from townhall.wsgi import application

SCHEMA = schemathesis.openapi.from_path(
    str(resources.files("townhall.open311").joinpath("openapi.json"))
)


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    # Like Django's test client: the WSGI app must not close the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_test_connection")
@SCHEMA.parametrize()
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_server_fail(case: Any, town: Any) -> None:
    response = case.call(app=application)
    assert response.status_code < 500, (response.status_code, case.path, case.query, case.body)
