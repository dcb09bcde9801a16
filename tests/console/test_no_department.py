"""A caseworker who belongs to no department yet (just created) sees empty queues, not a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["mine", "unassigned", "all", "breached", "triage"])
def test_a_caseworker_without_a_department_gets_empty_queues(
    client: Client, caseworker: Any, town: Any, slug: str
) -> None:
    client.force_login(caseworker)
    response = client.get(f"/console/queues/{slug}/")
    assert response.status_code == 200, response.content[:500]
