from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "townhall.hooks"
    label = "hooks"

    def ready(self) -> None:
        # django-anymail reports e-mail delivery through its signal: a framework hook.
        from anymail.signals import inbound, tracking

        from townhall.hooks.email import email_tracking_received
        from townhall.hooks.email_inbound import email_inbound_received

        tracking.connect(email_tracking_received, dispatch_uid="townhall-email-tracking")
        inbound.connect(email_inbound_received, dispatch_uid="townhall-email-inbound")
