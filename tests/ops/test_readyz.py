"""/readyz: database, cache, migrations and the worker's lag, each named when it fails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from townhall.ops import readiness
from townhall.portal.tasks import staged_photos_purge_task


@pytest.fixture(autouse=True)
def _migrations_looked_at_again() -> Iterator[None]:
    readiness.migrations_cache_forget()
    yield
    readiness.migrations_cache_forget()


@pytest.mark.django_db
def test_ready_when_everything_answers(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "migrations": "ok", "worker": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_later_probe_does_not_plan_migrations_again(
    client: Client, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any
) -> None:
    assert client.get("/readyz").status_code == 200

    def no_planning(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("migrations planned again")

    monkeypatch.setattr(readiness, "MigrationExecutor", no_planning)
    # SELECT 1 and the worker's one query: cheap enough for a probe every few seconds
    with django_assert_max_num_queries(2):
        response = client.get("/readyz")
    assert response.json()["checks"]["migrations"] == "ok"


@pytest.mark.django_db
def test_unapplied_migrations_make_it_unready(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        readiness.MigrationExecutor,
        "migration_plan",
        lambda self, targets: [("cases", "9999_future")],
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["migrations"] == "1 migrations not applied"
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}})
def test_a_cache_that_keeps_nothing_makes_it_unready(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "cache did not return what was stored"


@pytest.mark.django_db
def test_a_database_that_fails_is_named_not_raised(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    def down() -> str:
        raise OperationalError("connection refused to db.internal")

    monkeypatch.setitem(readiness.CHECKS, "database", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    # the type of the error, not its text (which may carry host names or data)
    assert response.json()["checks"]["database"] == "error: OperationalError"


@pytest.mark.django_db
@override_settings(TOWNHALL_READY_MAX_TASK_AGE=300)
def test_a_worker_that_has_fallen_behind_makes_it_unready(client: Client) -> None:
    staged_photos_purge_task.enqueue()
    assert client.get("/readyz").status_code == 200  # just enqueued: no lag
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(seconds=301))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"].startswith("oldest task waiting 30")


@pytest.mark.django_db
def test_a_task_deferred_to_later_is_no_lag(client: Client) -> None:
    staged_photos_purge_task.using(run_after=timezone.now() + timedelta(hours=1)).enqueue()
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(hours=2))
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_probes_are_not_redirected_to_https(client: Client) -> None:
    assert client.get("/readyz").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301
