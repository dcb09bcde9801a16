"""Safe placeholders for the notification texts councils edit: names only, nothing to run.

A template is plain text with `{{ name }}` placeholders taken from a fixed list. There is no
attribute access, no filters and no template tags, so a council administrator can edit the
words freely without being able to reach data the message should not carry. Pure: no
database, no settings.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping

from django.utils.html import escape

PLACEHOLDERS: dict[str, str] = {
    "name": "the resident's name, or 'resident' if unknown",
    "reference": "the public reference, e.g. TH-26-004211",
    "service": "the service type's name",
    "status": "the case status as residents see it",
    "expected_date": "the promised date, written out in the resident's language",
    "note": "the caseworker's public note or update",
    "tracking_url": "link to the tracking page",
    "survey_url": "link to the satisfaction survey",
    "survey": "the survey invitation with its link (empty if the resident opted out)",
    "unsubscribe_url": "one-click link to stop these messages",
    "council": "the council's name",
    "address": "where the problem is",
    "title": "an alert's title",
    "message": "an alert's text",
    "code": "a one-time code proving a phone number (phone_code only)",
    "confirm_url": "link that confirms an e-mail address before it follows a request",
    "subscription": "what a resident asked for: bin reminders or alerts, and where",
    "day": "a collection day, written out in the resident's language",
    "streams": "what goes out on that day (rubbish, recycling…)",
    "time": "when to put the bins out by",
    "minutes": "how many minutes a link keeps working",
    "sign_in_url": "the sign-in link, made only when the message is sent (sign_in_link)",
    "actor": "the colleague who acted (staff messages)",
    "count": "how many cases (sla_escalation)",
    "references": "the cases' references, one a line (sla_escalation)",
    "case_url": "link to the case in the console (staff messages)",
    "when": "an appointment's day and time, written out in the resident's language",
    "where": "where an appointment happens: the office, or by phone or video",
    "manage_url": "link to see, move or cancel an appointment",
}

# `{{`, optional spaces, anything without braces, optional spaces, `}}`. What is inside is
# checked separately, so that `{{ case.reference }}` gets a precise complaint instead of
# silently staying in the text.
_PLACEHOLDER = re.compile(r"\{\{\s*(?P<inner>[^{}]*?)\s*\}\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Braces left over once the placeholders are taken out: any of these is a mistake.
_STRAY = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each of these is sent as an escape plus a character, so it costs two septets.
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM7_SINGLE, _GSM7_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67
# "…" is not in the GSM-7 alphabet: appending it to GSM-7 text would switch the whole
# message to UCS-2 and more than halve the room, so GSM-7 text ends with three dots.
_ELLIPSIS = "\u2026"
_GSM7_ELLIPSIS = "..."


class TemplateProblem(ValueError):
    """Raise when a notification template cannot be rendered; `problems` lists why."""

    code = "notify.template_invalid"

    def __init__(self, message: str, *, problems: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems


def _inner_problem(inner: str) -> str | None:
    """Return what is wrong with the text between one pair of double braces, if anything."""
    if not inner:
        return "Empty placeholder '{{ }}': write a name between the braces, e.g. {{ reference }}."
    if _NAME.fullmatch(inner):
        if inner in PLACEHOLDERS:
            return None
        problem = f"Unknown placeholder {{{{ {inner} }}}}."
        close = difflib.get_close_matches(inner, PLACEHOLDERS, n=1)
        if close:
            problem += f" Did you mean {{{{ {close[0]} }}}}?"
        return problem
    if "." in inner:
        return f"'{{{{ {inner} }}}}' uses attribute access, which is not allowed: use a plain name."
    if "|" in inner:
        return f"'{{{{ {inner} }}}}' uses a filter, which is not allowed: use a plain name."
    return f"'{{{{ {inner} }}}}' is not a placeholder: use a plain name, e.g. {{{{ reference }}}}."


def template_check(text: str) -> list[str]:
    """Return the problems in a template, in the order they appear; empty if it is valid.

    Reports unknown placeholder names, placeholders that are not a plain name (attribute
    access, filters, expressions), and stray or unbalanced braces such as a `{{` without its
    `}}` or a `{% tag %}`. Each problem is reported once.
    """
    problems: list[str] = []
    for match in _PLACEHOLDER.finditer(text):
        problem = _inner_problem(match.group("inner"))
        if problem is not None:
            problems.append(problem)
    if "{{{" in text or "}}}" in text:
        problems.append("Triple braces: a placeholder is written with two, e.g. {{ reference }}.")
    remainder = _PLACEHOLDER.sub(" ", text)
    for stray in _STRAY.findall(remainder):
        if stray in {"{%", "%}"}:
            problems.append("Template tags ({% ... %}) are not allowed: use placeholders only.")
        elif stray in {"{#", "#}"}:
            problems.append("Template comments ({# ... #}) are not allowed.")
        elif stray == "{{":
            problems.append("'{{' without a matching '}}'.")
        else:
            problems.append("'}}' without a matching '{{'.")
    return list(dict.fromkeys(problems))


@functools.lru_cache(maxsize=512)
def _problems_of(text: str) -> tuple[str, ...]:
    """template_check, remembered per text: a fan-out renders one template many times."""
    return tuple(template_check(text))


def template_render(text: str, values: Mapping[str, str], *, html: bool = False) -> str:
    """Return the template with each placeholder replaced by its value.

    A placeholder without a value becomes an empty string. Values are substituted in one
    pass, so a value that itself contains `{{ note }}` stays as written. With `html`, values
    are escaped; the text around them is not, because the council wrote it.

    Raise TemplateProblem if `template_check` finds problems.
    """
    problems = _problems_of(text)
    if problems:
        raise TemplateProblem(
            f"The template cannot be used: {' '.join(problems)}", problems=list(problems)
        )

    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group("inner"), "")
        return str(escape(value)) if html else value

    return _PLACEHOLDER.sub(substitute, text)


def placeholders_used(text: str) -> set[str]:
    """Return the names of the placeholders a template uses.

    Every `{{ name }}` with a plain name counts, known or not (`template_check` tells them
    apart); malformed placeholders such as `{{ case.reference }}` do not.
    """
    return {
        inner
        for match in _PLACEHOLDER.finditer(text)
        if _NAME.fullmatch(inner := match.group("inner"))
    }


def _is_gsm7(text: str) -> bool:
    """Return whether every character of the text can be sent in GSM-7."""
    return all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text)


def _parts(units: list[int], single: int, part: int) -> int:
    """Return how many segments characters of these sizes take, alone or in parts."""
    if sum(units) <= single:
        return 1
    # Phones never split an escaped GSM-7 character or a UTF-16 surrogate pair across two
    # parts, so a part can end a unit short: pack character by character.
    parts, used = 1, 0
    for size in units:
        if used + size > part:
            parts, used = parts + 1, 0
        used += size
    return parts


def sms_segments(text: str) -> int:
    """Return how many SMS segments the text takes (an empty text still takes one).

    GSM-7 if every character is in the GSM-7 alphabet (160 septets alone, 153 per part of a
    longer message, extension characters ^{}\\[~]|€ costing two), otherwise UCS-2 (70 alone,
    67 per part, characters outside the Basic Multilingual Plane such as emoji costing two).
    """
    if _is_gsm7(text):
        septets = [2 if char in _GSM7_EXTENSION else 1 for char in text]
        return _parts(septets, _GSM7_SINGLE, _GSM7_PART)
    code_units = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return _parts(code_units, _UCS2_SINGLE, _UCS2_PART)


def _shortened(text: str, keep: int) -> str:
    """Return the first `keep` characters, without trailing spaces, and an ellipsis."""
    head = text[:keep].rstrip()
    return head + (_GSM7_ELLIPSIS if _is_gsm7(head) else _ELLIPSIS)


def sms_fit(text: str, *, max_segments: int = 3) -> str:
    """Return the text trimmed, with a trailing ellipsis, so it fits in `max_segments` SMS.

    Text that already fits is returned unchanged. Segments are counted as `sms_segments`
    does. The ellipsis is "…", except in GSM-7 text, where it is "..." so that the message
    stays GSM-7.

    Raise ValueError if `max_segments` is less than one.
    """
    if max_segments < 1:
        raise ValueError("An SMS has at least one segment.")
    if sms_segments(text) <= max_segments:
        return text
    # The longest prefix that still fits, by bisection: keeping more never takes fewer
    # segments, and the full text (keep = len(text)) is known not to fit.
    low, high = 0, len(text)
    while high - low > 1:
        middle = (low + high) // 2
        if sms_segments(_shortened(text, middle)) <= max_segments:
            low = middle
        else:
            high = middle
    return _shortened(text, low)
