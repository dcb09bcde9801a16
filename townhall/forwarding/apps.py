from django.apps import AppConfig


class ForwardingConfig(AppConfig):
    name = "townhall.forwarding"
    label = "forwarding"
    verbose_name = "Forwarding to other bodies"
    default_auto_field = "django.db.models.BigAutoField"
