"""What a forward sends: the GeoReport POST fields for a case, mapped for its body.

The service code and attributes through the body's ServiceMapping; the public text and
place; the reporter's name and contacts only for a body trusted with them
(`Body.send_personal_data`).
"""

from __future__ import annotations

from typing import Any

from townhall.cases.models import Case
from townhall.forwarding.models import (
    Forward,
    ServiceMapping,
)
from townhall.people.models import ContactKind
from townhall.people.selectors import case_contacts, citizen_contact


def _attribute_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_attribute_value(v) for v in value)
    return "" if value is None else str(value)


def _attributes(answers: dict[str, Any], mapping: dict[str, Any]) -> dict[str, str]:
    """Our answers as the remote's attribute[code] fields: codes renamed and values mapped
    by `mapping` ({ours: theirs} or {ours: {"code": theirs, "values": {ours: theirs}}};
    a code mapped to "" is not sent); unmapped answers keep our codes."""
    out: dict[str, str] = {}
    for code, value in answers.items():
        rule = mapping.get(code, code)
        values: dict[str, Any] = {}
        if isinstance(rule, dict):
            values = rule.get("values") or {}
            rule = rule.get("code", code)
        if not rule or not isinstance(rule, str):
            continue
        if isinstance(value, (list, tuple)):
            value = [values.get(str(v), v) for v in value]
        elif values:
            value = values.get(_attribute_value(value), value)
        out[f"attribute[{rule}]"] = _attribute_value(value)
    return out


def request_fields(forward: Forward) -> dict[str, str]:
    """The GeoReport v2 POST fields of `forward` (the key is added by the client).

    The mapped service code (ours without a mapping), the place, the public text and the
    answers. The reporter's name and contacts, and their words unmasked, only for a body
    marked `send_personal_data`.
    """
    case = forward.case
    body = forward.body
    mapping = ServiceMapping.objects.filter(body=body, service_type_id=case.service_type_id).first()
    fields: dict[str, str] = {
        "service_code": mapping.remote_code if mapping else case.service_type.code,
    }
    if case.lat is not None and case.long is not None:
        fields["lat"] = repr(float(case.lat))
        fields["long"] = repr(float(case.long))
    if case.address:
        fields["address_string"] = case.address
    if case.address_id:
        fields["address_id"] = case.address_id
    description = case.description if body.send_personal_data else case.public_description
    if description:
        fields["description"] = description
    if case.media_url:
        fields["media_url"] = case.media_url
    fields.update(_attributes(dict(case.answers or {}), mapping.attributes if mapping else {}))
    if body.send_personal_data and case.reporter is not None:
        fields.update(_personal_fields(case))
    return fields


def _personal_fields(case: Case) -> dict[str, str]:
    citizen = case.reporter
    assert citizen is not None
    out: dict[str, str] = {}
    names = citizen.display_name.split(None, 1)
    if names:
        out["first_name"] = names[0]
        if len(names) > 1:
            out["last_name"] = names[1]
    contacts = case_contacts(citizen=citizen, case_id=case.pk)
    if contacts is None:
        contacts = {
            kind: value
            for kind in (ContactKind.EMAIL, ContactKind.PHONE)
            if (value := citizen_contact(citizen=citizen, kind=kind))
        }
    if contacts.get(ContactKind.EMAIL):
        out["email"] = contacts[ContactKind.EMAIL]
    if contacts.get(ContactKind.PHONE):
        out["phone"] = contacts[ContactKind.PHONE]
    return out


# -- sending ---------------------------------------------------------------------------------
