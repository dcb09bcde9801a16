"""Notification templates: safe placeholders, SMS length and the default texts."""

from __future__ import annotations

import json
import string
from importlib.resources import files
from typing import Any

import pytest

from townhall.notify.rendering import (
    PLACEHOLDERS,
    TemplateProblem,
    placeholders_used,
    sms_fit,
    sms_segments,
    template_check,
    template_render,
)

# --- rendering -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("Hello {{ name }}", {"name": "Ann"}, "Hello Ann"),
        ("Hello {{name}}", {"name": "Ann"}, "Hello Ann"),
        ("Hello {{   name   }}", {"name": "Ann"}, "Hello Ann"),
        ("Hello {{\tname\n}}", {"name": "Ann"}, "Hello Ann"),
        ("Ref {{ reference }} / {{ reference }}", {"reference": "TH-1"}, "Ref TH-1 / TH-1"),
        (
            "Hello {{ name }},\n\n  {{ note }}\n",
            {"name": "Ann", "note": "Done."},
            "Hello Ann,\n\n  Done.\n",
        ),
        ("No placeholders at all.", {"name": "Ann"}, "No placeholders at all."),
        ("Single {braces} and 100% stay", {}, "Single {braces} and 100% stay"),
        ("", {"name": "Ann"}, ""),
    ],
)
def test_render_replaces_each_placeholder_by_its_value(
    text: str, values: dict[str, str], expected: str
) -> None:
    assert template_render(text, values) == expected


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("Hello {{ name }}.", {}, "Hello ."),
        ("{{ note }}", {"name": "Ann"}, ""),
        ("A{{ title }}B{{ message }}C", {"message": "m"}, "ABmC"),
    ],
)
def test_render_writes_a_missing_value_as_empty_text(
    text: str, values: dict[str, str], expected: str
) -> None:
    assert template_render(text, values) == expected


@pytest.mark.parametrize("name", sorted(PLACEHOLDERS))
def test_every_documented_placeholder_is_accepted(name: str) -> None:
    text = f"[{{{{ {name} }}}}]"
    assert template_check(text) == []
    assert template_render(text, {name: "x"}) == "[x]"


def test_values_are_substituted_in_one_pass() -> None:
    values = {"name": "{{ note }}", "note": "secret"}
    assert template_render("Hi {{ name }}", values) == "Hi {{ note }}"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (True, "<p>Hi &lt;b&gt;Ann &amp; Bo&lt;/b&gt; &quot;x&quot; &#x27;y&#x27;</p> & co"),
        (False, "<p>Hi <b>Ann & Bo</b> \"x\" 'y'</p> & co"),
    ],
)
def test_html_mode_escapes_values_but_never_the_template_text(html: bool, expected: str) -> None:
    values = {"name": "<b>Ann & Bo</b> \"x\" 'y'"}
    assert template_render("<p>Hi {{ name }}</p> & co", values, html=html) == expected


# --- checking --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Plain text.",
        "{{ reference }} {{reference}} {{  expected_date  }}",
        "Costs {5} or {x}: single braces are ordinary text.",
        "Line one\n{{ note }}\nLine three",
    ],
)
def test_check_accepts_valid_templates(text: str) -> None:
    assert template_check(text) == []


INVALID = [
    pytest.param("Hello {{ nmae }}", "Unknown placeholder {{ nmae }}", id="unknown-name"),
    pytest.param("{{ Name }}", "Did you mean {{ name }}?", id="names-are-lower-case"),
    pytest.param("{{ case.reference }}", "attribute access", id="attribute-access"),
    pytest.param("{{ citizen.user.password }}", "attribute access", id="deep-attribute"),
    pytest.param("{{ name|upper }}", "filter", id="filter"),
    pytest.param("{{ name() }}", "not a placeholder", id="call"),
    pytest.param("{{ }}", "Empty placeholder", id="empty"),
    pytest.param("{% if note %}x{% endif %}", "Template tags", id="tag"),
    pytest.param("{% load static %}", "Template tags", id="load-tag"),
    pytest.param("{# hidden #}", "Template comments", id="comment"),
    pytest.param("Hello {{ name", "'{{' without a matching '}}'", id="unclosed"),
    pytest.param("Hello {{ name }", "'{{' without a matching '}}'", id="half-closed"),
    pytest.param("Hello name }}", "'}}' without a matching '{{'", id="unopened"),
    pytest.param("Hello {{{ name }}}", "Triple braces", id="triple-braces"),
    pytest.param("{{ {{ name }} }}", "without a matching", id="nested"),
]


@pytest.mark.parametrize(("text", "fragment"), INVALID)
def test_check_reports_the_problem(text: str, fragment: str) -> None:
    problems = template_check(text)
    assert problems
    assert any(fragment in problem for problem in problems), problems


@pytest.mark.parametrize(("text", "fragment"), INVALID)
def test_render_refuses_a_template_with_problems(text: str, fragment: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        template_render(text, {"name": "Ann", "note": "n"})
    assert caught.value.problems == template_check(text)
    assert caught.value.code == "notify.template_invalid"
    assert isinstance(caught.value, ValueError)
    assert fragment in str(caught.value)


def test_check_suggests_the_closest_known_name() -> None:
    assert template_check("{{ refrence }}") == [
        "Unknown placeholder {{ refrence }}. Did you mean {{ reference }}?"
    ]


def test_check_reports_a_repeated_problem_once_in_order_of_appearance() -> None:
    problems = template_check("{{ foo }} {{ case.id }} {{ foo }} {% x %} {% y %}")
    assert len(problems) == 3
    assert problems[0].startswith("Unknown placeholder {{ foo }}")
    assert "attribute access" in problems[1]
    assert "Template tags" in problems[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", set()),
        ("Plain", set()),
        ("{{ name }} {{reference}} {{ name }}", {"name", "reference"}),
        ("{{ unknown_thing }} {{ note }}", {"unknown_thing", "note"}),
        ("{{ case.reference }} {{ name|upper }} {% if x %}", set()),
    ],
)
def test_placeholders_used_lists_plain_names(text: str, expected: set[str]) -> None:
    assert placeholders_used(text) == expected


# --- SMS length ------------------------------------------------------------------------


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 459, 3),
        ("[" * 80, 1),  # extension characters cost two septets each
        ("[" * 81, 2),
        ("a" * 152 + "€" + "b" * 152, 3),  # 306 septets, but an escape is never split
        ("¿Qué tal? Señor Müller, 50 £ o 5 ¥", 1),  # all in the GSM-7 alphabet
        ("á" * 70, 1),  # á is not GSM-7: UCS-2
        ("á" * 71, 2),
        ("中" * 134, 2),
        ("中" * 135, 3),
        ("🙂" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("🙂" * 36, 2),
    ],
)
def test_sms_segments_follow_the_gsm7_and_ucs2_limits(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


@pytest.mark.parametrize(
    ("text", "max_segments"),
    [
        ("Your request TH-26-004211 is resolved.", 3),
        ("a" * 160, 1),
        ("a" * 459, 3),
        ("á" * 201, 3),
        ("Recogida sin realizar 🙂", 1),
        ("", 1),
    ],
)
def test_sms_fit_leaves_text_that_fits_unchanged(text: str, max_segments: int) -> None:
    assert sms_fit(text, max_segments=max_segments) == text


@pytest.mark.parametrize(
    ("text", "max_segments", "expected_length"),
    [
        ("word " * 200, 3, 3 * 153),
        ("x" * 1000, 3, 3 * 153),
        ("x" * 161, 1, 160),
        ("x" * 400, 2, 2 * 153),
    ],
)
def test_sms_fit_trims_long_gsm7_text_with_three_dots_to_stay_gsm7(
    text: str, max_segments: int, expected_length: int
) -> None:
    fitted = sms_fit(text, max_segments=max_segments)
    assert fitted.endswith("...")
    assert len(fitted) == expected_length
    assert sms_segments(fitted) == max_segments
    assert text.startswith(fitted[:-3])
    assert "…" not in fitted  # would switch the message to UCS-2


def test_sms_fit_counts_gsm7_extension_characters_twice() -> None:
    fitted = sms_fit("{" * 200, max_segments=1)
    assert fitted == "{" * 78 + "..."  # 156 + 3 septets


@pytest.mark.parametrize(
    ("text", "max_segments", "expected_units"),
    [
        ("中文" * 200, 3, 3 * 67),
        ("中文" * 200, 1, 70),
        ("Recogida de basura 🗑️ " * 30, 3, 3 * 67),
        ("🙂" * 200, 3, 199),  # 33 emoji a part, no pair split; then the ellipsis
    ],
)
def test_sms_fit_trims_ucs2_text_with_an_ellipsis(
    text: str, max_segments: int, expected_units: int
) -> None:
    fitted = sms_fit(text, max_segments=max_segments)
    assert fitted.endswith("…")
    assert utf16_units(fitted) == expected_units
    assert sms_segments(fitted) == max_segments
    assert text.startswith(fitted[:-1])


def test_sms_fit_keeps_the_room_of_gsm7_when_only_the_cut_off_tail_needed_ucs2() -> None:
    fitted = sms_fit("a" * 500 + "🙂", max_segments=3)
    assert fitted == "a" * 456 + "..."


def test_sms_fit_does_not_end_on_whitespace_before_the_ellipsis() -> None:
    fitted = sms_fit("a" * 156 + "    " + "b" * 50, max_segments=1)
    assert fitted == "a" * 156 + "..."


@pytest.mark.parametrize("max_segments", [0, -1])
def test_sms_fit_needs_at_least_one_segment(max_segments: int) -> None:
    with pytest.raises(ValueError, match="at least one segment"):
        sms_fit("hello", max_segments=max_segments)


# --- the default templates -------------------------------------------------------------

KINDS = [
    "acknowledged",
    "status_changed",
    "public_update",
    "awaiting_reply",
    "resolved",
    "reopened",
    "sla_date_changed",
    "alert",
]
CHANNELS = ["email", "sms", "inapp"]
LANGUAGES = ["en", "es"]
STOP = {"en": "Reply STOP to opt out.", "es": "Responda STOP para darse de baja."}

ALL_TEMPLATES: list[dict[str, Any]] = json.loads(
    files("townhall.notify").joinpath("data/templates.json").read_text(encoding="utf-8")
)
# The one-time code that proves a phone (issue 15) is a text only, with no STOP line or
# unsubscribe link (the resident asked for it): checked on its own below.
TEMPLATES = [t for t in ALL_TEMPLATES if t["kind"] != "phone_code"]


def template(kind: str, channel: str, language: str) -> dict[str, Any]:
    (found,) = (
        t
        for t in TEMPLATES
        if (t["kind"], t["channel"], t["language"]) == (kind, channel, language)
    )
    return found


def ids(t: dict[str, Any]) -> str:
    return f"{t['kind']}-{t['channel']}-{t['language']}"


def of(channel: str, language: str | None = None) -> list[Any]:
    return [
        pytest.param(t, id=ids(t))
        for t in TEMPLATES
        if t["channel"] == channel and language in (None, t["language"])
    ]


COMMON = {
    "reference": "TH-26-004211",
    "tracking_url": "https://x.example/t/TH-26-004211",
    "survey_url": "https://x.example/s/TH-26-004211",
    "unsubscribe_url": "https://x.example/u/3f9a2c7d1e",
    "address": "12 Elm Street",
}
ENGLISH = {
    **COMMON,
    "name": "Alex Johnson",
    "service": "Missed trash pickup",
    "status": "Awaiting your reply",
    "expected_date": "Friday 27 November 2026",
    "note": "Our crew will empty your bins on Thursday morning.",
    "council": "Testville Council",
    "title": "Road closed on High Street",
    "message": "High Street is closed on Monday from 8am to 6pm for resurfacing. Use Mill Lane.",
}
SPANISH = {
    **COMMON,
    "name": "José Martínez",
    "service": "Recogida de basura no realizada",
    "status": "En espera de su respuesta",
    "expected_date": "viernes, 27 de noviembre de 2026",
    "note": "El equipo vaciará sus contenedores el jueves por la mañana.",
    "council": "Ayuntamiento de Testville",
    "title": "Calle Mayor cortada al tráfico",
    "message": "Cortada el lunes de 8:00 a 18:00 por obras. Use la calle del Molino.",
}
# The longest dates each language writes; a Saturday in Spanish also switches to UCS-2.
ENGLISH_LONG_DATE = {**ENGLISH, "expected_date": "Wednesday 30 September 2026"}
SPANISH_LONG_DATE = {**SPANISH, "expected_date": "miércoles, 30 de septiembre de 2026"}
SPANISH_UCS2_DATE = {**SPANISH, "expected_date": "sábado, 26 de septiembre de 2026"}
PLAIN_GSM7 = set(string.ascii_letters + string.digits + " !\"#$%&'()*+,-./:;<=>?@_")


def test_there_is_one_template_for_each_kind_channel_and_language() -> None:
    keys = [(t["kind"], t["channel"], t["language"]) for t in TEMPLATES]
    assert len(TEMPLATES) == 48
    assert sorted(keys) == sorted(
        (kind, channel, language)
        for kind in KINDS
        for channel in CHANNELS
        for language in LANGUAGES
    )


@pytest.mark.parametrize("t", of("email") + of("sms") + of("inapp"))
def test_every_default_template_is_well_formed(t: dict[str, Any]) -> None:
    assert set(t) == {"kind", "channel", "language", "subject", "body"}
    assert template_check(t["subject"]) == []
    assert template_check(t["body"]) == []
    assert t["body"].strip()


@pytest.mark.parametrize("t", of("email"))
def test_email_has_a_subject_and_ends_with_the_unsubscribe_link(t: dict[str, Any]) -> None:
    assert t["subject"].strip()
    assert "\n" not in t["subject"]
    assert "{{ unsubscribe_url }}" in t["body"]
    assert "{{ unsubscribe_url }}" in t["body"].rstrip().splitlines()[-1]
    assert len(t["body"].strip().splitlines()) > 3


@pytest.mark.parametrize("t", of("inapp"))
def test_inapp_is_short_and_has_no_links(t: dict[str, Any]) -> None:
    assert 0 < len(t["subject"]) <= 40
    assert not placeholders_used(t["subject"] + t["body"]) & {
        "tracking_url",
        "survey_url",
        "unsubscribe_url",
    }


@pytest.mark.parametrize("values", [ENGLISH, ENGLISH_LONG_DATE], ids=["typical", "long-date"])
@pytest.mark.parametrize("t", of("sms", "en"))
def test_english_sms_renders_to_one_segment_of_plain_gsm7(
    t: dict[str, Any], values: dict[str, str]
) -> None:
    text = template_render(t["body"], values)
    assert t["subject"] == ""
    assert len(text) <= 160
    assert set(text) <= PLAIN_GSM7, set(text) - PLAIN_GSM7
    assert sms_segments(text) == 1


@pytest.mark.parametrize(
    "values", [SPANISH, SPANISH_LONG_DATE, SPANISH_UCS2_DATE], ids=["typical", "long", "ucs2"]
)
@pytest.mark.parametrize("t", of("sms", "es"))
def test_spanish_sms_renders_to_at_most_two_segments(
    t: dict[str, Any], values: dict[str, str]
) -> None:
    assert t["subject"] == ""
    assert sms_segments(template_render(t["body"], values)) <= 2


@pytest.mark.parametrize("t", of("sms"))
def test_sms_opt_out_line_when_present_ends_the_message(t: dict[str, Any]) -> None:
    stop = STOP[t["language"]]
    assert t["body"].count("STOP") == t["body"].count(stop) <= 1
    if stop in t["body"]:
        assert t["body"].endswith(stop)


def test_the_first_english_sms_tells_residents_how_to_opt_out() -> None:
    assert template("acknowledged", "sms", "en")["body"].endswith(STOP["en"])


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_acknowledgement_gives_the_reference_and_expected_date(channel: str, language: str) -> None:
    used = placeholders_used(template("acknowledged", channel, language)["body"])
    assert {"reference", "expected_date"} <= used


@pytest.mark.parametrize("language", LANGUAGES)
def test_resolved_email_links_to_the_survey(language: str) -> None:
    # The invitation with its link, or nothing for a resident who opted out of surveys.
    assert "{{ survey }}" in template("resolved", "email", language)["body"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_alert_texts_carry_the_title_and_message(language: str) -> None:
    for channel in CHANNELS:
        t = template("alert", channel, language)
        assert {"title", "message"} <= placeholders_used(t["subject"] + t["body"])


@pytest.mark.parametrize("t", of("email") + of("inapp"))
def test_every_default_template_renders_without_leftover_braces(t: dict[str, Any]) -> None:
    values = ENGLISH if t["language"] == "en" else SPANISH
    rendered = template_render(t["subject"], values) + template_render(t["body"], values)
    assert "{" not in rendered
    assert "}" not in rendered


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_phone_code_is_one_plain_text_per_language(language: str) -> None:
    (t,) = (x for x in ALL_TEMPLATES if (x["kind"], x["language"]) == ("phone_code", language))
    assert t["channel"] == "sms" and template_check(t["body"]) == []
    text = template_render(t["body"], {"code": "042917", "council": "Testville Council"})
    assert "042917" in text and set(text) <= PLAIN_GSM7 and len(text) <= 160
