"""Without DATABASE_REPLICA_URL nothing changes; with it, the settings add the replica
alias (mirrored in tests) and the router (core/routers.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from townhall.cases.models import Case
from townhall.core.routers import REPLICA, ReplicaRouter, reading_from_replica

WORKTREE = Path(__file__).resolve().parents[2]


def _settings_in_a_fresh_process(**env: str) -> dict[str, Any]:
    """DATABASES and DATABASE_ROUTERS as townhall.settings builds them from `env`."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({'databases': settings.DATABASES, "
        "'routers': settings.DATABASE_ROUTERS}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=WORKTREE,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "townhall.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_replica_url_adds_the_replica_alias_mirrored_in_tests() -> None:
    built = _settings_in_a_fresh_process(
        DATABASE_URL="postgres://app@primary.internal:5432/townhall",
        DATABASE_REPLICA_URL="postgres://app@replica.internal:5432/townhall",
    )
    replica = built["databases"]["replica"]
    assert replica["HOST"] == "replica.internal" and replica["NAME"] == "townhall"
    assert replica["TEST"]["MIRROR"] == "default"
    assert built["databases"]["default"]["HOST"] == "primary.internal"
    assert built["routers"] == ["townhall.core.routers.ReplicaRouter"]

    without = _settings_in_a_fresh_process(DATABASE_URL="", DATABASE_REPLICA_URL="")
    assert set(without["databases"]) == {"default"}


@pytest.mark.django_db
def test_without_a_replica_the_context_changes_nothing(pothole: Any) -> None:
    assert REPLICA not in connections.settings
    router = ReplicaRouter()
    with reading_from_replica():
        assert router.db_for_read(Case) is None
        assert Case.objects.count() == 0  # and the query runs, on default
