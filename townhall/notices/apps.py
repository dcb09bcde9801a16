"""Public notices and product recalls: published by staff, shown on the portal and in the
assistant, pushed to subscribers, hash-chained like case events. See docs/notices.md.
"""

from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "townhall.notices"
    label = "notices"
    verbose_name = "Notices"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from townhall.notices.sealing import register

        register()
