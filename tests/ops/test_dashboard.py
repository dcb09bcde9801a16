"""The Grafana dashboard: valid JSON whose queries use only metrics /metrics exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "townhall.json"
METRIC = re.compile(r"\btownhall_[a-z_]+\b")


def queries() -> list[str]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_the_dashboard_parses_and_has_its_panels() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "townhall-overview"
    titles = " ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for topic in ("request rate", "p95", "5xx", "task queue", "outbox", "sla", "channel"):
        assert topic in titles, topic
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.django_db
def test_every_metric_a_query_uses_is_exported(client: Client) -> None:
    client.get("/readyz")  # a request, so the request metrics have samples
    response = client.get("/metrics")
    exported = {
        sample.name
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
    used = {name for expr in queries() for name in METRIC.findall(expr)}
    assert used, "no townhall metric in the dashboard"
    assert used <= exported, used - exported
    # the histogram's buckets are what p95 is computed from
    assert "townhall_http_request_duration_seconds_bucket" in used
