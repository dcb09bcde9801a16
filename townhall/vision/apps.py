from django.apps import AppConfig


class VisionConfig(AppConfig):
    name = "townhall.vision"
    label = "vision"
    verbose_name = "Photo recognition"
    default_auto_field = "django.db.models.BigAutoField"
