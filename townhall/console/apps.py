from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    name = "townhall.console"
    label = "console"
    default = True
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from townhall.console import signin

        user_login_failed.connect(signin.on_sign_in_failed, dispatch_uid="townhall_sign_in_failed")
        user_locked_out.connect(signin.on_locked_out, dispatch_uid="townhall_locked_out")
        user_logged_in.connect(signin.on_signed_in, dispatch_uid="townhall_staff_signed_in")


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the staff sign-in that knows the second step."""

    default = False
    default_site = "townhall.console.twostep.StaffAdminSite"
