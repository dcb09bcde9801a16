from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class IntakeConfig(AppConfig):
    name = "townhall.intake"
    verbose_name = gettext_lazy("Intake")
    default_auto_field = "django.db.models.BigAutoField"
