from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "townhall.hooks"
    label = "hooks"
