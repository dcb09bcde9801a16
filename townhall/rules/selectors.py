"""Reads of the rules app: the programme in force (a council's version wins) and permit trees."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from townhall.core.errors import NotFound
from townhall.rules import models
from townhall.rules.casebook import CaseResult, cases_run
from townhall.rules.library import shipped_permit_trees, shipped_programmes, shipped_tests_for
from townhall.rules.schema import PermitTree, Programme, programme_compile


@functools.lru_cache(maxsize=256)
def _compiled(pk: int, version: int, created_at: datetime) -> Programme:
    # stored versions are append-only, so the row's identity names one definition for ever
    row = models.Programme.objects.get(pk=pk)
    return programme_compile(row.definition)


def rules_cache_clear() -> None:
    """Forget compiled stored programmes (tests roll back rows and reuse their ids)."""
    _compiled.cache_clear()


def _stored() -> dict[str, Programme]:
    found: dict[str, Programme] = {}
    rows = (
        models.Programme.objects.filter(is_active=True)
        .order_by("rule_id", "-version")
        .values_list("pk", "rule_id", "version", "created_at")
    )
    for pk, rule_id, version, created_at in rows:
        if rule_id not in found:
            found[rule_id] = _compiled(pk, version, created_at)
    return found


def programme_list() -> list[Programme]:
    """Return every programme residents can check, the council's versions over shipped ones."""
    merged = {**shipped_programmes(), **_stored()}
    return sorted(merged.values(), key=lambda p: p.title.get("en", p.id))


def programme_get(*, rule_id: str) -> Programme:
    """Return the programme `rule_id`; raise NotFound if neither the council nor Townhall has it."""
    row = (
        models.Programme.objects.filter(rule_id=rule_id, is_active=True)
        .order_by("-version")
        .values_list("pk", "version", "created_at")
        .first()
    )
    if row is not None:
        return _compiled(*row)
    shipped = shipped_programmes()
    if rule_id not in shipped:
        raise NotFound(f"No programme {rule_id!r}")
    return shipped[rule_id]


def programme_tests_run(*, programme: Programme) -> list[CaseResult]:
    """Run the programme's own test cases, or those shipped beside the file of the same id."""
    cases: list[Any] = list(programme.tests) or shipped_tests_for(programme.id)
    return cases_run(programme, cases)


def permit_tree_list() -> list[PermitTree]:
    """Return the permit trees, sorted by title."""
    return sorted(shipped_permit_trees().values(), key=lambda t: t.title.get("en", t.id))


def permit_tree_get(*, tree_id: str) -> PermitTree:
    """Return the permit tree `tree_id`; raise NotFound if there is none."""
    trees = shipped_permit_trees()
    if tree_id not in trees:
        raise NotFound(f"No permit tree {tree_id!r}")
    return trees[tree_id]
