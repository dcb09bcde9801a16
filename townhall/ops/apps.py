from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "townhall.ops"
    label = "ops"
    verbose_name = "Operations"
