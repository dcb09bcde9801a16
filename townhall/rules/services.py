"""Writes of the rules app: a council saves a new version of a programme."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max

from townhall.rules.library import yaml_parse
from townhall.rules.models import Programme
from townhall.rules.schema import programme_compile


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def programme_save(
    *, definition: dict[str, Any] | str, note: str = "", actor: Any = None
) -> Programme:
    """Validate `definition` (data or YAML text) and store it as the programme's next version.

    Raise ValidationFailed, listing every problem with its path, if the definition is invalid.
    """
    data = yaml_parse(definition) if isinstance(definition, str) else definition
    data = _jsonable(data)
    compiled = programme_compile(data)
    with transaction.atomic():
        latest = Programme.objects.filter(rule_id=compiled.id).aggregate(v=Max("version"))["v"]
        return Programme.objects.create(
            rule_id=compiled.id,
            version=(latest or 0) + 1,
            definition=data,
            note=note,
            created_by=actor if getattr(actor, "pk", None) else None,
        )


def programme_withdraw(*, rule_id: str) -> int:
    """Deactivate every stored version of `rule_id` so the shipped file applies again."""
    return Programme.objects.filter(rule_id=rule_id, is_active=True).update(is_active=False)
