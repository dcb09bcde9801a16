from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "townhall.assistant"
    verbose_name = "Assistant"
    default_auto_field = "django.db.models.BigAutoField"
