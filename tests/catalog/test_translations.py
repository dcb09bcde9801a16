"""The catalogue in residents' languages: checked on the way in, read with a fallback."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from tests.conftest import SMALL_TOWN
from townhall.catalog.i18n import localized, translations_check
from townhall.catalog.models import AttributeDefinition, ServiceType
from townhall.catalog.selectors import attribute_specs_for
from townhall.catalog.services import catalog_import
from townhall.core.errors import ValidationFailed


def test_every_mistake_in_a_translations_value_is_named() -> None:
    problems = translations_check(
        {
            "fr": {"name": "Nid-de-poule"},
            "es": {"name": 3, "colour": "rojo", "keywords": "bache"},
            "en": "Pothole",
        },
        kind="service",
    )
    assert any("'fr' is not one of the site's languages" in p for p in problems)
    assert "es.name: give text." in problems
    assert any(p.startswith("es.colour: only name, description, keywords") for p in problems)
    assert "es.keywords: give a list of words." in problems
    assert any(p.startswith("en: give an object of fields") for p in problems)
    assert translations_check({"es": {"values": {"small": "Pequeño"}}}, kind="attribute") == []
    assert translations_check({"es": {"values": ["Pequeño"]}}, kind="attribute")
    assert translations_check(["es"], kind="group")
    assert translations_check({}, kind="department") == []


@pytest.mark.django_db
def test_an_import_with_bad_translations_writes_nothing() -> None:
    spec: dict[str, Any] = {**SMALL_TOWN, "service_types": [dict(SMALL_TOWN["service_types"][0])]}
    spec["service_types"][0]["translations"] = {"es": {"nombre": "Bache"}}
    with pytest.raises(ValidationFailed) as caught:
        catalog_import(spec=spec)
    assert "service_types.pothole" in caught.value.details
    assert not ServiceType.objects.exists()


@pytest.mark.django_db
def test_the_admin_form_refuses_bad_translations(pothole: Any) -> None:
    pothole.translations = {"es": {"name": ["Bache"]}}
    with pytest.raises(ValidationError) as caught:
        pothole.full_clean()
    assert "translations" in caught.value.message_dict


@pytest.mark.django_db
def test_fields_read_in_the_active_language_and_fall_back_to_the_main_wording(
    pothole: Any, no_heat: Any
) -> None:
    with translation.override("es"):
        assert localized(pothole, "name") == "Bache"
        assert localized(pothole, "description") == pothole.description  # not translated
        assert localized(no_heat, "name") == "No heat"  # nothing translated
        assert localized(pothole.department, "name") == "Obras Públicas"
    with translation.override("es-mx"):  # a regional variant reads the language's words
        assert localized(pothole, "name") == "Bache"
    with translation.override("en"):
        assert localized(pothole, "name") == "Pothole"
    assert localized(pothole, "name", "pt") == "Pothole"


@pytest.mark.django_db
def test_questions_and_their_choices_are_worded_per_language(pothole: Any) -> None:
    size = next(s for s in attribute_specs_for(service_type=pothole) if s.code == "size")
    spanish = size.in_language("es")
    assert spanish.description == "¿De qué tamaño es?"
    assert spanish.value_names == ("Pequeño", "Large")  # the untranslated choice falls back
    assert spanish.values == size.values  # the keys residents send never change
    assert size.in_language("en").description == "How big is it?"
    assert AttributeDefinition.objects.get(code="size").translations["es"]["values"]


@pytest.mark.django_db
def test_the_portal_shows_the_catalogue_in_spanish_and_finds_spanish_words(
    pothole: Any, no_heat: Any
) -> None:
    spanish = Client(headers={"accept-language": "es"})
    home = spanish.get("/").content.decode()
    assert ">Bache<" in home and ">Calles<" in home and ">No heat<" in home
    report = spanish.get("/report/pothole/?lat=42.36&long=-71.09").content.decode()
    assert "¿De qué tamaño es?" in report and "Pequeño" in report
    found = spanish.get("/services/", {"q": "hoyo en la calle"}).content.decode()
    assert "/report/pothole/" in found
    english = Client(headers={"accept-language": "en"}).get("/").content.decode()
    assert ">Pothole<" in english and "Bache" not in english
