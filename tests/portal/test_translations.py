"""Spanish is complete: every message translated, none fuzzy, the compiled catalogue current."""

import ast
import gettext
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

import townhall
from townhall.cases.services import case_open
from townhall.cases.tracking import track_path

CATALOGUES = sorted(Path(townhall.__file__).parent.glob("*/locale/*/LC_MESSAGES/django.po"))
# The apps whose strings residents see; each has a Spanish catalogue. Rules has none: its
# rule texts carry their own en/es in YAML and the app marks no strings for translation.
SPANISH_APPS = {"portal", "cases", "catalog", "waste", "knowledge", "intake"}
# At most this many messages means a catalogue was cut short (failed makemessages, parser slip).
FEWEST_MESSAGES = {"knowledge": 5, "waste": 20, "people": 5, "assistant": 20}


def _entries(po: Path) -> list[dict[str, object]]:
    """The .po entries as dicts: ctxt, id, plural, strs, fuzzy (no header)."""
    entries: list[dict[str, object]] = []
    current: dict[str, object] = {}
    key = ""

    def flush() -> None:
        if current.get("id"):
            entries.append(dict(current))
        current.clear()

    for raw in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            flush()
            key = ""
        elif line.startswith("#,"):
            current["fuzzy"] = "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key.startswith("str"):
                strs = current.setdefault("strs", {})
                assert isinstance(strs, dict)
                strs[key] += value
            else:
                current[key] = str(current.get(key, "")) + value
        else:
            word, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if word.startswith("msgstr"):
                key = "str" + (word[len("msgstr") :] or "[0]")
                strs = current.setdefault("strs", {})
                assert isinstance(strs, dict)
                strs[key] = value
            else:
                key = {"msgctxt": "ctxt", "msgid": "id", "msgid_plural": "plural"}[word]
                current[key] = value
    return entries


def test_there_are_spanish_catalogues() -> None:
    assert {po.parts[-5] for po in CATALOGUES if po.parts[-3] == "es"} >= SPANISH_APPS


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: f"{po.parts[-5]}-{po.parts[-3]}")
def test_every_message_is_translated_and_compiled(po: Path) -> None:
    entries = _entries(po)
    # An English variant (portal/locale/en_GB) lists only the words spelled differently.
    fewest = 3 if po.parts[-3].startswith("en_") else FEWEST_MESSAGES.get(po.parts[-5], 30)
    assert len(entries) > fewest
    with po.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for entry in entries:
        strs = entry["strs"]
        assert isinstance(strs, dict)
        assert not entry.get("fuzzy"), f"fuzzy in {po}: {entry['id']!r}"
        assert all(strs.values()), f"untranslated in {po}: {entry['id']!r}"
        msgid, ctxt = str(entry["id"]), entry.get("ctxt")
        if "plural" in entry:
            got = (
                compiled.npgettext(str(ctxt), msgid, str(entry["plural"]), 1)
                if ctxt
                else compiled.ngettext(msgid, str(entry["plural"]), 1)
            )
        else:
            got = compiled.pgettext(str(ctxt), msgid) if ctxt else compiled.gettext(msgid)
        assert got == strs["str[0]"], f"{po.with_suffix('.mo')} is older than the .po: {msgid!r}"


@pytest.mark.django_db
def test_spanish_pages_say_it_in_spanish_with_spanish_dates(town: object) -> None:
    client = Client(headers={"accept-language": "es"})
    page = client.get("/track/").content.decode()
    assert '<html lang="es"' in page
    assert "Consultar una solicitud" in page
    assert ">Cambiar<" in page  # the switcher's own word, not Django admin's "Modificar"
    assert "Track a request" not in page


@pytest.mark.django_db
def test_dates_read_the_spanish_way_and_the_english_way(pothole: Any) -> None:
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="Hole"
    )
    assert case.expected_on is not None
    months_es = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"]
    months_es += ["septiembre", "octubre", "noviembre", "diciembre"]
    day = case.expected_on
    spanish = Client(headers={"accept-language": "es"}).get(track_path(case)).content.decode()
    assert f"{day.day} de {months_es[day.month - 1]} de {day.year}" in spanish
    english = Client(headers={"accept-language": "en"}).get(track_path(case)).content.decode()
    assert f"{day:%A} {day.day} {day:%B} {day.year}" in english


@pytest.mark.django_db
def test_numbers_are_read_with_the_languages_decimal_comma(pothole: Any) -> None:
    from townhall.cases.models import Case

    spanish = Client(headers={"accept-language": "es"})
    form = {"lat": "42.36", "long": "-71.09", "attribute_size": "small", "description": "Hoyo"}
    response = spanish.post("/report/pothole/", {**form, "attribute_depth_cm": "12,5"})
    assert response.status_code == 302, response.content.decode()[:1500]
    assert Case.objects.get().answers["depth_cm"] == 12.5
    english = Client(headers={"accept-language": "en"})
    assert (
        english.post("/report/pothole/", {**form, "attribute_depth_cm": "7.25"}).status_code == 302
    )
    assert Case.objects.latest("pk").answers["depth_cm"] == 7.25
