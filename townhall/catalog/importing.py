"""The catalogue file `catalog_import` reads, described by pydantic models.

Every problem is reported at once, under the row it is in (`service_types.pothole`,
`departments.dpw`, `calendar`), each message naming the field: "sla[1].hours: must be more
than 0 hours". Codes of departments and groups are known before the service types that
refer to them are read, so a wrong reference is reported with the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from townhall.catalog.i18n import translations_check
from townhall.catalog.models import AttributeDatatype, Open311Type, Priority, SlaClockKind
from townhall.core.errors import ValidationFailed
from townhall.core.validation import location_path, problems_details

LIST_TYPES = {AttributeDatatype.SINGLEVALUELIST, AttributeDatatype.MULTIVALUELIST}
ROW = "row"  # a problem of the whole row: reported without a field's name before it


def _row_problem(message: str) -> PydanticCustomError:
    return PydanticCustomError(ROW, "{message}", {"message": message})


def _translations(kind: str) -> AfterValidator:
    def check(value: Any) -> Any:
        found = translations_check(value, kind=kind)
        if found:
            raise PydanticCustomError("translations", "{message}", {"message": "; ".join(found)})
        return value

    return AfterValidator(check)


class _Row(BaseModel):
    # Files carry more than the import reads (the demo's streets, staff and residents).
    model_config = ConfigDict(extra="ignore")


@dataclass
class _Codes:
    """The codes read so far, for the references that follow them in the file."""

    departments: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)


def _codes(info: ValidationInfo) -> _Codes:
    return info.context["codes"] if info.context else _Codes()


class Centre(_Row):
    lat: float
    long: float


class JurisdictionSpec(_Row):
    slug: str
    name: str
    open311_id: str
    timezone: str
    country: str
    subdivision: str | None = ""
    centre: Centre | None = None
    website: str = ""


class Closure(_Row):
    date: dt.date
    reason: str


class CalendarSpec(_Row):
    name: str
    workdays: list[Annotated[int, Field(ge=0, le=6)]]
    opens: dt.time
    closes: dt.time
    closures: list[Closure] = []


class DepartmentSpec(_Row):
    code: str
    name: str
    description: str = ""
    email: str | None = ""
    phone: str | None = ""
    translations: Annotated[Any, _translations("department")] = None
    auto_assign: bool = False


class GroupSpec(_Row):
    code: str
    name: str
    description: str = ""
    translations: Annotated[Any, _translations("group")] = None


def _duplicates(value: Any) -> Any:
    good = isinstance(value, dict) and all(
        isinstance(value.get(k, 0), int) and value.get(k, 0) >= 0
        for k in ("radius_m", "window_days")
    )
    if not good:
        raise _row_problem(
            'duplicates must be {"radius_m": whole metres, "window_days": whole days}'
        )
    return value


class SlaRule(_Row):
    priority: str
    clock: str
    hours: Decimal

    @model_validator(mode="before")
    @classmethod
    def _rule(cls, data: Any) -> Any:
        if (
            not isinstance(data, dict)
            or data.get("priority") not in Priority.values
            or data.get("clock") not in SlaClockKind.values
        ):
            raise _row_problem(f"bad SLA rule {data!r}")
        try:
            positive = Decimal(str(data.get("hours", 0))) > 0
        except ArithmeticError:
            positive = False
        if not positive:
            raise _row_problem("SLA hours must be positive")
        return data


class AttributeSpec(_Row):
    code: str
    datatype: Annotated[str, BeforeValidator(str)]
    description: str
    required: bool = False
    variable: bool = True
    datatype_description: str = ""
    order: int | None = None
    values: list[dict[str, Any]] | None = Field(None, validate_default=True)
    translations: Any = None

    @field_validator("translations")
    @classmethod
    def _words(cls, value: Any, info: ValidationInfo) -> Any:
        code = info.data.get("code")
        problems = translations_check(value, kind="attribute")
        if problems:
            raise _row_problem("; ".join(f"attribute {code}: {p}" for p in problems))
        return value

    @field_validator("datatype")
    @classmethod
    def _datatype(cls, value: str, info: ValidationInfo) -> str:
        if value not in AttributeDatatype.values:
            raise _row_problem(f"attribute {info.data.get('code')}: bad datatype")
        return value

    @field_validator("values")
    @classmethod
    def _list_values(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("datatype") in LIST_TYPES and len(value or []) < 1:
            raise _row_problem(f"attribute {info.data.get('code')}: a list needs values")
        return value


class ServiceTypeSpec(_Row):
    code: str
    name: str
    department: str
    group: str
    description: str = ""
    keywords: list[str] = []
    open311_type: str = Open311Type.REALTIME
    active: bool = True
    translations: Annotated[Any, _translations("service")] = None
    duplicates: Annotated[dict[str, Any], BeforeValidator(_duplicates)] = {}
    personal: bool = False
    sla: list[SlaRule] = []
    attributes: list[AttributeSpec] = []

    @field_validator("department")
    @classmethod
    def _department(cls, value: str, info: ValidationInfo) -> str:
        if value not in _codes(info).departments:
            raise _row_problem(f"unknown department {value!r}")
        return value

    @field_validator("group")
    @classmethod
    def _group(cls, value: str, info: ValidationInfo) -> str:
        if value not in _codes(info).groups:
            raise _row_problem(f"unknown group {value!r}")
        return value

    @field_validator("open311_type")
    @classmethod
    def _open311_type(cls, value: str) -> str:
        if value not in Open311Type.values:
            raise _row_problem("open311_type must be realtime, batch or blackbox")
        return value

    @field_validator("personal", mode="before")
    @classmethod
    def _personal(cls, value: Any) -> Any:
        if not isinstance(value, bool):
            raise _row_problem("personal must be true or false")
        return value


def _remember(kind: str) -> BeforeValidator:
    """Note the codes of a section before its rows are checked (references come later)."""

    def note(rows: Any, info: ValidationInfo) -> Any:
        if isinstance(rows, list) and info.context:
            codes: set[str] = getattr(info.context["codes"], kind)
            codes.update(r["code"] for r in rows if isinstance(r, dict) and "code" in r)
        return rows

    return BeforeValidator(note)


class CatalogueSpec(_Row):
    """A catalogue file: the shape of townhall/demo/data/town.json."""

    jurisdiction: JurisdictionSpec
    calendar: CalendarSpec
    departments: Annotated[list[DepartmentSpec], _remember("departments")]
    groups: Annotated[list[GroupSpec], _remember("groups")]
    service_types: list[ServiceTypeSpec]


def _where(spec: Mapping[str, Any], location: tuple[int | str, ...]) -> tuple[str, str]:
    """The row a problem is in (`service_types.pothole`) and the field inside it."""
    section, *rest = location or ("(top)",)
    if rest and isinstance(rest[0], int):
        rows = spec.get(str(section))
        row = rows[rest[0]] if isinstance(rows, list) else None
        code = row.get("code") if isinstance(row, dict) else None
        return f"{section}.{code if code is not None else '?'}", location_path(rest[1:])
    return str(section), location_path(rest)


def catalogue_check(spec: Any) -> None:
    """Raise ValidationFailed listing every problem of a catalogue file, by row."""
    try:
        CatalogueSpec.model_validate(spec, context={"codes": _Codes()})
    except ValidationError as exc:
        problems: list[tuple[str, str]] = []
        for error in exc.errors(include_url=False, include_input=False):
            row, inside = _where(spec if isinstance(spec, dict) else {}, error["loc"])
            message = "is required" if error["type"] == "missing" else error["msg"]
            if inside and error["type"] != ROW:
                message = f"{inside}: {message}"
            problems.append((row, message))
        raise ValidationFailed(
            "The catalogue file has problems.", details=problems_details(problems)
        ) from None
