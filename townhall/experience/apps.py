from django.apps import AppConfig


class ExperienceConfig(AppConfig):
    name = "townhall.experience"
    verbose_name = "Experience"
    default_auto_field = "django.db.models.BigAutoField"
