"""Staff-facing words follow the language: console strings and admin labels."""

from __future__ import annotations

from django.apps import apps
from django.utils import translation

from townhall.cases.lifecycle import CaseStatus
from townhall.catalog.models import SlaPolicy
from townhall.console.labels import staff_status_label


def test_admin_labels_and_the_staff_status_wording_are_translated() -> None:
    with translation.override("es"):
        assert str(SlaPolicy._meta.verbose_name_plural) == "Políticas de plazos (SLA)"
        assert str(apps.get_app_config("waste").verbose_name) == "Residuos"
        assert staff_status_label(CaseStatus.AWAITING_CITIZEN) == "Esperando al residente"
        assert staff_status_label(CaseStatus.RESOLVED) == str(CaseStatus.RESOLVED.label)
    with translation.override("en"):
        assert str(SlaPolicy._meta.verbose_name_plural) == "SLA policies"
        assert staff_status_label(CaseStatus.AWAITING_CITIZEN) == "Waiting for the resident"
        assert staff_status_label("nonsense") == "nonsense"
