from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class KnowledgeConfig(AppConfig):
    name = "townhall.knowledge"
    verbose_name = gettext_lazy("Knowledge")
    default_auto_field = "django.db.models.BigAutoField"
