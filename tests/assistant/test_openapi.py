"""The assistant's OpenAPI description is served and names only routes that exist."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import Resolver404, resolve

from townhall.assistant.openapi import openapi_document


def test_every_described_path_is_a_route_and_every_route_is_described() -> None:
    described = set(openapi_document()["paths"])
    for path in described:
        try:
            resolve(path)
        except Resolver404:
            pytest.fail(f"{path} is described but not routed")
    for route in ("messages", "ratings", "transport", "events", "photos"):
        assert f"/api/assistant/{route}" in described


@pytest.mark.django_db
def test_the_description_is_served_with_this_server(client: Any, settings: Any) -> None:
    settings.TOWNHALL_PUBLIC_URL = "https://town.example.org"
    answer = client.get("/api/assistant/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["servers"] == [{"url": "https://town.example.org"}]
    assert document["openapi"].startswith("3.")
