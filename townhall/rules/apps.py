from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class RulesConfig(AppConfig):
    name = "townhall.rules"
    verbose_name = gettext_lazy("Rules")
    default_auto_field = "django.db.models.BigAutoField"
