"""What partners post to the hooks, described by pydantic models and checked at the door.

A partner's JSON message (`/hooks/intake/<slug>/`) is checked before its signature is
remembered and before it reaches the intake pipeline; every problem comes back at once in
the hook's JSON error list, each under its field (`location.lat`). Fields: id (their message
id, for retries), text, subject, sender {name, email, phone, handle}, location {lat, long,
address}, thread (a case reference), service_code; anything else is ignored.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from townhall.core.errors import ValidationFailed
from townhall.core.validation import problem, problems_error, validation_failed
from townhall.intake.channels import TEXT_MAX


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int):  # their ids may be numbers
        raise problem("text", "Give a string.")
    return str(value).strip()


def _decimal(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number):
        raise problem("decimal", "Give a decimal number.")
    return number


def _object(message: str) -> BeforeValidator:
    """An object, or nothing (null is none given); anything else is refused with `message`."""

    def check(value: Any) -> Any:
        if not value:
            return {}
        if not isinstance(value, dict):
            raise problem("object", message)
        return value

    return BeforeValidator(check)


Text = Annotated[str, BeforeValidator(_text)]
Decimal = Annotated[float | None, BeforeValidator(_decimal)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PartnerSender(_Payload):
    name: Text = ""
    email: Text = ""
    phone: Text = ""
    handle: Text = ""


class PartnerLocation(_Payload):
    lat: Decimal = None
    long: Decimal = None
    address: Text = ""

    @model_validator(mode="after")
    def _both(self) -> Self:
        if (self.lat is None) != (self.long is None):
            raise problem("pair", "Give both lat and long, or neither.")
        return self


class PartnerMessage(_Payload):
    """A partner's message: something to say (text, subject or a place) is required."""

    id: Text = ""
    text: Text = ""
    subject: Text = ""
    thread: Text = ""
    service_code: Text = ""
    sender: Annotated[
        PartnerSender, _object("Give an object with name, email, phone or handle.")
    ] = PartnerSender()
    location: Annotated[PartnerLocation, _object("Give an object with lat, long or address.")] = (
        PartnerLocation()
    )

    @model_validator(mode="after")
    def _about_something(self) -> Self:
        if len(self.text) > TEXT_MAX:
            raise problems_error([(("text",), f"Keep it under {TEXT_MAX} characters.")])
        place = self.location.lat is not None or self.location.address
        if not self.text and not self.subject and not place:
            raise problems_error([(("text",), "Say what the message is about.")])
        return self


def partner_message_check(payload: Any) -> PartnerMessage:
    """Return a partner's payload checked; raise ValidationFailed listing every problem."""
    if not isinstance(payload, dict):
        raise ValidationFailed("Send a JSON object.", details={"body": ["Send a JSON object."]})
    try:
        return PartnerMessage.model_validate(payload)
    except ValidationError as exc:
        raise validation_failed("The message could not be accepted.", exc) from None
