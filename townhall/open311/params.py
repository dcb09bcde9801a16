"""The parameters of GeoReport's requests, checked by pydantic models: every problem at once.

Each problem becomes one of the spec's errors, `{code: 400, description: "lat must be a
decimal number."}`: the parameter's name, then what is wrong with it. The models read the
request's form or query as it came (text), so a parameter given twice counts by its last
value, as Django's `QueryDict.get` reads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Self, TypeVar

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from townhall.core.validation import validation_problems
from townhall.open311.render import Open311Error, Open311Errors

DESCRIPTION_MAX = 4000
MAX_WINDOW = timedelta(days=90)
MAX_PAGE = 1000
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")

# Built-in errors in the spec's words (a parameter is text, so few can happen).
MESSAGES = {"missing": "is required.", "string_type": "must be text."}


def _problem(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _stripped(raw: str) -> str:
    return raw.strip()


def _required(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise _problem("required", "is required.")
    return value


def _decimal(raw: str) -> float | None:
    if not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError:
        raise _problem("decimal", "must be a decimal number.") from None


def _description(raw: str) -> str:
    if len(raw) > DESCRIPTION_MAX:
        raise _problem("too_long", f"must be at most {DESCRIPTION_MAX} characters.")
    return raw


def flag(raw: str) -> bool:
    """`true`/`false` (also 1/0, yes/no; blank is false)."""
    value = raw.strip().lower()
    if value in {"", "false", "0", "no"}:
        return False
    if value in {"true", "1", "yes"}:
        return True
    raise _problem("flag", "must be true or false.")


def _whole(low: int, high: int) -> PlainValidator:
    def check(raw: str) -> int:
        value = raw.strip()
        if not value.isdigit() or not low <= int(value) <= high:
            raise _problem("whole", f"must be a whole number from {low} to {high}.")
        return int(value)

    return PlainValidator(check)


def _comma(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _statuses(raw: str) -> tuple[str, ...]:
    statuses = _comma(raw)
    if any(s not in {"open", "closed"} for s in statuses):
        raise _problem("status", "must be open, closed or both (comma-separated).")
    return statuses


def _moment(raw: str) -> datetime | None:
    """A W3C date-time (or a date), in UTC."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            value = datetime.combine(day, datetime.min.time()) if day is not None else None
    except ValueError:  # well-formed but not a date: 2026-13-45
        value = None
    if value is None:
        raise _problem("datetime", "must be a W3C date-time such as 2026-11-23T08:00:00-05:00.")
    try:
        aware = value if timezone.is_aware(value) else timezone.make_aware(value)
        # Stored and compared in UTC: odd offsets such as +23:44 are valid ISO 8601 but
        # not valid PostgreSQL time zones.
        utc = aware.astimezone(UTC)
        # The 90-day window around it must exist too (9999-12-31 has none after it).
        utc - MAX_WINDOW, utc + MAX_WINDOW  # OverflowError if not
        return utc
    except (OverflowError, ValueError):
        raise _problem("range", "is out of range.") from None


Stripped = Annotated[str, PlainValidator(_stripped)]
Required = Annotated[str, PlainValidator(_required)]
Decimal = Annotated[float | None, PlainValidator(_decimal)]
Moment = Annotated[datetime | None, PlainValidator(_moment)]
Comma = Annotated[tuple[str, ...], PlainValidator(_comma)]


class _Params(BaseModel):
    # Unknown parameters are allowed (clients send their own), and nothing is changed later.
    model_config = ConfigDict(extra="ignore", frozen=True)


class RequestCreateParams(_Params):
    """POST requests: what GeoReport defines, checked before the service is looked up."""

    service_code: Required
    lat: Decimal = None
    long: Decimal = None
    address_string: Stripped = ""
    address_id: Stripped = ""
    description: Annotated[str, PlainValidator(_description)] = ""
    first_name: str = ""
    last_name: str = ""
    email: Stripped = ""
    phone: Stripped = ""
    media_url: Stripped = ""
    account_id: str = ""

    @model_validator(mode="after")
    def _located(self) -> Self:
        located = self.lat is not None or self.long is not None
        if not located and not self.address_string and not self.address_id:
            raise _problem(
                "location", "A location is required: lat and long, address_string or address_id."
            )
        return self

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p).strip()


class RequestListParams(_Params):
    """GET requests: the paging and extension parameters, read whatever else is asked."""

    service_request_id: Comma = ()
    page_size: Annotated[int, _whole(1, MAX_PAGE)] = MAX_PAGE
    page: Annotated[int, _whole(1, 1_000_000)] = 1
    extensions: Annotated[bool, PlainValidator(flag)] = False

    @model_validator(mode="after")
    def _few_enough(self) -> Self:
        if len(self.service_request_id) > MAX_PAGE:
            raise _problem("ids", f"Ask for at most {MAX_PAGE} service_request_id at once.")
        return self


class RequestFilterParams(RequestListParams):
    """GET requests without ids: the spec's filters and the `updated_*` extension.

    Without dates, the last 90 days; with one, the 90 days from or up to it.
    """

    service_code: Comma = ()
    status: Annotated[tuple[str, ...], PlainValidator(_statuses)] = ()
    start_date: Moment = None
    end_date: Moment = None
    updated_after: Moment = None
    updated_before: Moment = None

    @model_validator(mode="after")
    def _window(self) -> Self:
        start, end = self.start_date, self.end_date
        if start and end and end < start:
            raise _problem("window", "end_date is before start_date.")
        if start and end and end - start > MAX_WINDOW:
            raise _problem("window", "start_date and end_date may be at most 90 days apart.")
        return self

    def opened_between(self, now: datetime) -> tuple[datetime, datetime]:
        """The window of `opened_at` asked for (90 days at most)."""
        start, end = self.start_date, self.end_date
        if start is None and end is None:
            end = now
        if start is None:
            assert end is not None
            return end - MAX_WINDOW, end
        return start, end if end is not None else start + MAX_WINDOW


def open311_errors(error: ValidationError) -> Open311Errors:
    """Every problem of `error` as the spec's errors: `<parameter> <what is wrong>`."""
    return Open311Errors(
        [
            Open311Error(400, f"{path} {message}" if path else message)
            for path, message in validation_problems(error, messages=MESSAGES, top="")
        ]
    )


P = TypeVar("P", bound=_Params)


def params_parse(model: type[P], data: QueryDict | Mapping[str, Any]) -> P:
    """Return `data` checked by `model`; raise Open311Errors listing every problem."""
    try:
        return model.model_validate(data.dict() if isinstance(data, QueryDict) else data)
    except ValidationError as exc:
        raise open311_errors(exc) from None


def attribute_answers(post: QueryDict) -> dict[str, object]:
    """The answers to a service's questions: `attribute[code]` (a list for `code[]`)."""
    answers: dict[str, object] = {}
    for field in post:
        match = _ATTRIBUTE.match(field)
        if match:
            values = post.getlist(field)
            answers[match.group(1)] = values if match.group(2) else values[-1]
    return answers
