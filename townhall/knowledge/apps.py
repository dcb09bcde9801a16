from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "townhall.knowledge"
    verbose_name = "Knowledge"
    default_auto_field = "django.db.models.BigAutoField"
