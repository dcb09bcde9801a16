"""The database or Redis unavailable: 503 with Retry-After instead of 500, nothing
half-written; without Redis the pages, the API and the console still answer."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any
from unittest import mock

import environ
import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from tests.console.conftest import signed_in
from townhall.cases.models import Case
from townhall.catalog.services import department_member_add
from townhall.conf.storage import cache_settings
from townhall.core import resilience
from townhall.core.ratelimit import rate_limit_hit, rate_limits_reset
from townhall.open311.keys import api_key_issue

pytestmark = pytest.mark.django_db
POST_URL = "/open311/v2/requests.json"


def _open311_post(client: Client, key: str, **extra: str) -> Any:
    return client.post(
        POST_URL,
        {
            "api_key": key,
            "service_code": "pothole",
            "lat": "42.36",
            "long": "-71.09",
            "attribute[size]": "large",
            "email": "rosa@example.org",
            "description": "marker-1",
            **extra,
        },
    )


def _database_down() -> Any:
    """Every SQL statement fails as with the server gone (what psycopg raises then)."""
    return mock.patch.object(
        CursorWrapper,
        "execute",
        side_effect=OperationalError("connection to server failed: Connection refused"),
    )


def test_an_api_post_while_the_database_is_down_is_a_503_in_json_and_writes_nothing(
    town: Any,
) -> None:
    key = api_key_issue(name="partner")[1]
    client = Client(raise_request_exception=False)
    with _database_down():
        response = _open311_post(client, key)
    assert response.status_code == 503
    assert response["Retry-After"] == str(resilience.RETRY_AFTER_SECONDS)
    assert response.json()["error"] == "service_unavailable"
    assert not Case.objects.exists()
    # and once it is back the same request goes through
    assert _open311_post(client, key).status_code == 200
    assert Case.objects.count() == 1


def test_a_page_while_the_database_is_down_is_a_friendly_503(town: Any) -> None:
    client = Client(raise_request_exception=False)
    with _database_down():
        response = client.get("/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"]
    assert "unavailable for a moment" in response.content.decode()
    assert "connection" not in response.content.decode().lower()  # no detail of the error


def test_a_database_error_in_an_inner_middleware_is_a_503_too(town: Any) -> None:
    client = Client(raise_request_exception=False)
    with mock.patch.object(
        SessionMiddleware, "process_response", side_effect=OperationalError("gone")
    ):
        response = client.get("/")
    assert response.status_code == 503


def test_any_other_error_is_still_a_500(town: Any) -> None:
    client = Client(raise_request_exception=False)
    with mock.patch.object(SessionMiddleware, "process_response", side_effect=KeyError("x")):
        response = client.get("/")
    assert response.status_code == 500


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nobody listens


@pytest.fixture
def redis_down(settings: Any) -> Iterator[str]:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CACHES = cache_settings(environ.Env(), redis_url=url)
    settings.TOWNHALL_RATE_LIMIT_STORAGE = url
    rate_limits_reset()
    resilience.cache_outage_reset()
    yield url
    resilience.cache_outage_reset()
    rate_limits_reset()


def test_the_cache_without_redis_is_a_cache_that_holds_nothing(
    redis_down: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = caches["default"]
    assert isinstance(cache, resilience.ResilientRedisCache)
    with caplog.at_level(logging.WARNING, logger="townhall.resilience"):
        cache.set("a", 1)
        assert cache.get("a", "missing") == "missing"
        assert cache.add("b", 2) is False
        assert cache.get_many(["a", "b"]) == {}
        with pytest.raises(ValueError, match="not found"):
            cache.incr("a")
        resilience.ResilientRedisCache._down_until = 0.0  # try Redis again: still down
        assert cache.get("a") is None
    outage = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
    assert len(outage) == 1  # logged once per outage, not per call


def test_without_redis_pages_the_api_and_the_console_still_answer(
    redis_down: str, caseworker: Any, pothole: Any
) -> None:
    client = Client(raise_request_exception=True)
    assert client.get("/").status_code == 200
    assert client.get("/services/").status_code in {200, 301, 302}
    key = api_key_issue(name="partner")[1]
    response = _open311_post(client, key)
    assert response.status_code == 200, response.content
    assert Case.objects.count() == 1
    department_member_add(department=pothole.department, user=caseworker)
    console = signed_in(caseworker)
    assert console.get("/console/queues/all/").status_code == 200


def test_the_rate_limiter_lets_requests_through_without_redis(
    redis_down: str, settings: Any
) -> None:
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "sign_in": "1/hour"}
    for _ in range(3):
        rate_limit_hit(None, "sign_in", targets=["rosa@example.org"])  # never RateLimited


def test_production_refuses_to_start_without_a_shared_cache() -> None:
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        cache_settings(environ.Env(), redis_url="", production=True)
    assert cache_settings(environ.Env(), redis_url="", production=False)["default"]["BACKEND"]
    backend = cache_settings(environ.Env(), redis_url="redis://r:6379/0", production=True)
    assert backend["default"]["BACKEND"] == "townhall.core.resilience.ResilientRedisCache"


def test_a_wake_up_lost_after_the_commit_does_not_fail_a_request_that_was_saved(
    town: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The database lost between the commit and the task enqueued after it: the case is
    saved, so the answer is 200 (a 503 would make the client send it again: two cases)."""
    key = api_key_issue(name="partner")[1]
    client = Client(raise_request_exception=False)
    broken = mock.Mock()
    broken.enqueue.side_effect = OperationalError("terminating connection")
    with (
        mock.patch("django_tasks.base.Task.using", return_value=broken),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = _open311_post(client, key)
    assert broken.enqueue.called and callbacks  # the wake-up was tried, and failed
    assert response.status_code == 200, response.content
    assert Case.objects.count() == 1
