from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "townhall.appointments"
    label = "appointments"
    verbose_name = "Appointments"
    default_auto_field = "django.db.models.BigAutoField"
