from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PlacesConfig(AppConfig):
    name = "townhall.places"
    label = "places"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = gettext_lazy("Address gazetteer")
