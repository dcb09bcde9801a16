from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class WasteConfig(AppConfig):
    name = "townhall.waste"
    verbose_name = gettext_lazy("Waste")
    default_auto_field = "django.db.models.BigAutoField"
