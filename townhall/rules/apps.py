from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "townhall.rules"
    verbose_name = "Rules"
    default_auto_field = "django.db.models.BigAutoField"
