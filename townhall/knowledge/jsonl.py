"""Reading article and evaluation files: one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from townhall.core.errors import ValidationFailed


def jsonl_read(path: Path) -> list[dict[str, Any]]:
    """Return the objects of a JSONL file, blank lines skipped.

    Raise ValidationFailed listing every line that is not a JSON object.
    """
    rows: list[dict[str, Any]] = []
    problems: dict[str, list[str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            problems[f"line {number}"] = [f"not JSON: {error.msg}"]
            continue
        if not isinstance(row, dict):
            problems[f"line {number}"] = ["not a JSON object"]
            continue
        rows.append(row)
    if problems:
        raise ValidationFailed(f"{path} is not valid JSONL.", details=problems)
    return rows
