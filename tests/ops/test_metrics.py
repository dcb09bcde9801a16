"""/metrics: the text format, request counts by URL name, gauges, and who may scrape."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from townhall.cases.models import Case
from townhall.cases.services.opening import case_open
from townhall.catalog.models import ServiceType
from townhall.notify.models import Notification
from townhall.ops.metrics import EXPORTED

METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def scrape(client: Client, **extra: Any) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200
    assert response["Content-Type"] == METRICS_TYPE
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


@pytest.mark.django_db
def test_a_scrape_has_every_metric_the_dashboard_uses(client: Client) -> None:
    client.get("/readyz")  # so the request metrics have a sample
    samples = scrape(client)
    assert set(samples) >= EXPORTED, EXPORTED - set(samples)


@pytest.mark.django_db
def test_a_request_increments_the_counter_of_its_url_name(client: Client) -> None:
    labels = {"method": "GET", "route": "ops:readyz", "status": "2xx"}
    before = REGISTRY.get_sample_value("townhall_http_requests_total", labels) or 0.0
    client.get("/readyz")
    assert REGISTRY.get_sample_value("townhall_http_requests_total", labels) == before + 1
    count = {"method": "GET", "route": "ops:readyz"}
    assert REGISTRY.get_sample_value("townhall_http_request_duration_seconds_count", count)
    missing = {"method": "GET", "route": "unmatched", "status": "4xx"}
    before = REGISTRY.get_sample_value("townhall_http_requests_total", missing) or 0.0
    client.get("/no-such-page/4211/")
    assert REGISTRY.get_sample_value("townhall_http_requests_total", missing) == before + 1


@pytest.mark.django_db
def test_no_label_carries_an_id_a_reference_or_an_address(
    client: Client, pothole: ServiceType, resident: Any
) -> None:
    case = case_open(
        service_type=pothole,
        channel="web",
        description="Hole",
        answers={"size": "large"},
        reporter=resident,
    )
    client.get(f"/track/{case.reference}/")
    client.get(f"/requests/{case.reference}-4211/")
    client.get("/x/rosa@example.org/617-555-0199/")
    client.post("/no-such-form/", {"email": "rosa@example.org"})
    client.generic("BREW", "/unknown/")
    samples = scrape(client)
    labels = {
        (label, value)
        for name, series in samples.items()
        if name.startswith("townhall_")
        for key in series
        for label, value in key
        if label != "le"  # the histogram's buckets
    }
    assert {label for label, _ in labels} == {"method", "route", "status", "channel"}
    for label, value in labels:
        if label == "status":
            assert re.fullmatch(r"[1-5]xx|[a-z]+", value), value
        else:  # names and words ("open311"): no id, reference, phone number or address
            assert re.fullmatch(r"[a-z0-9_:.-]+|[A-Z]+", value), value
            assert not re.search(r"\d{4}|555|rosa", value), value
            assert case.reference not in value
    assert ("route", "portal:request") in labels
    assert ("method", "other") in labels


@pytest.mark.django_db
def test_the_gauges_count_the_queue_the_outbox_breaches_and_channels(
    client: Client, pothole: ServiceType, django_assert_max_num_queries: Any
) -> None:
    case_open(
        service_type=pothole,
        channel="web",
        description="Hole by the school",
        answers={"size": "large"},
    )
    case_open(
        service_type=pothole, channel="sms", description="Hole on Elm St", answers={"size": "large"}
    )
    late = case_open(
        service_type=pothole, channel="sms", description="Hole on Oak St", answers={"size": "large"}
    )
    Case.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    Notification.objects.create(
        key="metrics-test", kind="acknowledged", channel="email", body="x", status="dead"
    )
    # four queries: the task queue, the outbox, the breaches, the channels
    with django_assert_max_num_queries(4):
        samples = scrape(client)
    assert samples["townhall_cases_opened_total"][(("channel", "sms"),)] >= 2
    assert samples["townhall_cases_opened_total"][(("channel", "web"),)] >= 1
    assert samples["townhall_cases_opened_total"][(("channel", "phone"),)] == 0
    assert samples["townhall_cases_sla_breached_open"][()] == 1
    assert samples["townhall_notifications_backlog"][(("status", "dead"),)] == 1
    assert samples["townhall_tasks_ready"][()] >= 0


@pytest.mark.django_db
def test_a_client_that_is_not_this_machine_gets_nothing_without_a_token(client: Client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    # a proxy on this machine would make every visitor local: forwarded requests are not
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert proxied.status_code == 404


@pytest.mark.django_db
@override_settings(PRODUCTION=True, TOWNHALL_METRICS_TOKEN="tok-3f9a8c1e")
def test_production_scrapers_present_the_token(client: Client) -> None:
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", **outside).status_code == 403
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer tok-3f9a8c1f", **outside)
    assert wrong.status_code == 403
    basic = client.get("/metrics", HTTP_AUTHORIZATION="Basic tok-3f9a8c1e", **outside)
    assert basic.status_code == 403
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer tok-3f9a8c1e", **outside)
    assert right.status_code == 200
    assert b"townhall_cases_opened_total" in right.content
    # Loopback is not enough in production: a local proxy would make everyone loopback.
    assert client.get("/metrics").status_code == 403
    local_right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer tok-3f9a8c1e")
    assert local_right.status_code == 200


@pytest.mark.django_db
@override_settings(PRODUCTION=True, TOWNHALL_METRICS_TOKEN="")
def test_production_without_a_token_has_no_metrics_page_for_others(client: Client) -> None:
    bearer = {"HTTP_AUTHORIZATION": "Bearer ", "REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", **bearer).status_code == 404
    assert client.get("/metrics").status_code == 404  # loopback too, in production


def test_several_processes_add_up_in_the_multiprocess_directory(tmp_path: Path) -> None:
    # prometheus_client chooses its storage at import: a fresh interpreter with the variable
    script = """
import django
django.setup()
from townhall.ops.metrics import HTTP_REQUESTS, process_exposition
HTTP_REQUESTS.labels("GET", "portal:home", "2xx").inc(3)
print(process_exposition().decode())
"""
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "townhall.settings",
    }
    environment.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert 'townhall_http_requests_total{method="GET",route="portal:home",status="2xx"} 3.0' in out
    assert list(tmp_path.glob("counter_*.db"))


def test_gunicorn_start_empties_the_multiprocess_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from townhall.ops import gunicorn_conf

    (tmp_path / "counter_4242.db").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    gunicorn_conf.on_starting(server=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
