"""The rules shipped with Townhall: YAML files under programmes/ and permits/, and their tests."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from townhall.core.errors import ValidationFailed
from townhall.rules.schema import PermitTree, Programme, permit_tree_compile, programme_compile

HERE = Path(__file__).resolve().parent
PROGRAMMES_DIR = HERE / "programmes"
PERMITS_DIR = HERE / "permits"
TESTS_SUFFIX = ".tests.yaml"


def yaml_parse(text: str, *, where: str = "") -> Any:
    """Parse YAML safely (no Python tags); raise ValidationFailed on a syntax error."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(yaml)"
        raise ValidationFailed(
            f"{where or 'The definition'} is not valid YAML",
            details={at: [str(getattr(error, "problem", None) or error)]},
        ) from None


def rules_compile(data: Any) -> Programme | PermitTree:
    """Compile a definition of either kind, chosen by its `kind` (default: programme)."""
    if isinstance(data, dict) and data.get("kind") == "permit_tree":
        return permit_tree_compile(data)
    return programme_compile(data)


def rules_files(directory: Path | None = None) -> list[Path]:
    """Return the shipped rule files (not their tests), sorted."""
    directories = [directory] if directory else [PROGRAMMES_DIR, PERMITS_DIR]
    return sorted(
        path
        for folder in directories
        for path in folder.glob("*.yaml")
        if not path.name.endswith(TESTS_SUFFIX)
    )


def cases_file_for(path: Path) -> Path:
    """Return where the tests of a rule file live: beside it, named <stem>.tests.yaml."""
    return path.with_name(path.name.removesuffix(".yaml") + TESTS_SUFFIX)


def rules_file_for_tests(path: Path) -> Path:
    """Return the rule file a tests file belongs to."""
    return path.with_name(path.name.removesuffix(TESTS_SUFFIX) + ".yaml")


def rules_file_load(path: Path) -> Programme | PermitTree:
    """Load and compile one rule file; raise ValidationFailed naming the file."""
    stat = path.stat()
    return _load_cached(str(path), stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _load_cached(path: str, mtime_ns: int) -> Programme | PermitTree:
    data = yaml_parse(Path(path).read_text(encoding="utf-8"), where=path)
    try:
        return rules_compile(data)
    except ValidationFailed as error:
        raise ValidationFailed(f"{path}: {error.message}", details=error.details) from None


def cases_file_load(path: Path) -> list[dict[str, Any]]:
    """Load a tests file: a list of cases; raise ValidationFailed if it is not one."""
    data = yaml_parse(path.read_text(encoding="utf-8"), where=str(path))
    if not isinstance(data, list) or not all(isinstance(case, dict) for case in data):
        raise ValidationFailed(
            f"{path} is not a list of test cases", details={str(path): ["must be a list"]}
        )
    return data


def shipped_programmes() -> dict[str, Programme]:
    """Return the shipped programmes by id."""
    found: dict[str, Programme] = {}
    for path in rules_files(PROGRAMMES_DIR):
        rule = rules_file_load(path)
        if isinstance(rule, Programme):
            found[rule.id] = rule
    return found


def shipped_permit_trees() -> dict[str, PermitTree]:
    """Return the shipped permit trees by id."""
    found: dict[str, PermitTree] = {}
    for path in rules_files(PERMITS_DIR):
        rule = rules_file_load(path)
        if isinstance(rule, PermitTree):
            found[rule.id] = rule
    return found


def shipped_tests_for(rule_id: str) -> list[dict[str, Any]]:
    """Return the test cases shipped beside the file defining `rule_id` (empty if none)."""
    for path in rules_files():
        rule = rules_file_load(path)
        if rule.id == rule_id and cases_file_for(path).exists():
            return cases_file_load(cases_file_for(path))
    return []
