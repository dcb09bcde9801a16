from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "townhall.places"
    label = "places"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Address gazetteer"
