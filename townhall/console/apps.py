from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    name = "townhall.console"
    label = "console"
    default = True
    default_auto_field = "django.db.models.BigAutoField"


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the staff sign-in that knows the second step."""

    default = False
    default_site = "townhall.console.twostep.StaffAdminSite"
