"""The rows of the article and evaluation files, described by pydantic models.

Every bad row is reported at once, as `line N` (the Nth object of the file).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from townhall.core.errors import ValidationFailed
from townhall.core.validation import location_path, problems_details

REQUIRED_IMPORT_FIELDS = ("id", "title", "body")


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("row", "{message}", {"message": message})


class ArticleRow(BaseModel):
    """One article of an import file: id, title and body required; language, tags."""

    model_config = ConfigDict(extra="ignore")

    id: str
    title: str
    body: str
    language: str | None = None
    tags: list[Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _complete(cls, row: Any) -> Any:
        if not isinstance(row, dict):
            raise _problem("not a JSON object")
        missing = [f for f in REQUIRED_IMPORT_FIELDS if not str(row.get(f) or "").strip()]
        if missing:
            raise _problem(f"missing {', '.join(missing)}")
        if not isinstance(row.get("tags", []), list | None):
            raise _problem("tags must be a list")
        # ids, titles and bodies are taken as text whatever their JSON type
        return {**row, **{f: str(row[f]) for f in REQUIRED_IMPORT_FIELDS}}


class EvalRow(BaseModel):
    """One case of an evaluation file: a query and the id of the article that answers it."""

    model_config = ConfigDict(extra="ignore")

    query: str
    expected_id: str

    @model_validator(mode="before")
    @classmethod
    def _complete(cls, row: Any) -> Any:
        if not isinstance(row, dict) or not row.get("query") or "expected_id" not in row:
            raise _problem("needs query and expected_id")
        return {**row, "query": str(row["query"]), "expected_id": str(row["expected_id"])}


_ARTICLES = TypeAdapter(list[ArticleRow])
_CASES = TypeAdapter(list[EvalRow])


M = TypeVar("M", bound=BaseModel)


def _rows(adapter: TypeAdapter[list[M]], rows: Sequence[Any], title: str) -> list[M]:
    try:
        return adapter.validate_python(list(rows))
    except ValidationError as exc:
        problems: list[tuple[str, str]] = []
        for e in exc.errors(include_url=False, include_input=False):
            number, *inside = e["loc"] or ("(file)",)
            where = f"line {number + 1}" if isinstance(number, int) else str(number)
            problems.append((where, f"{location_path(inside)}: {e['msg']}" if inside else e["msg"]))
        raise ValidationFailed(title, details=problems_details(problems)) from None


def article_rows(rows: Sequence[Any]) -> list[ArticleRow]:
    """Return the rows of an article file checked; raise ValidationFailed listing every bad one."""
    return _rows(_ARTICLES, rows, "The import file is not valid.")


def eval_rows(rows: Sequence[Any], *, where: str) -> list[EvalRow]:
    """Return the rows of an evaluation file checked; raise ValidationFailed listing all."""
    return _rows(_CASES, rows, f"{where} is not valid.")
