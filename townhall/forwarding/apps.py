from django.apps import AppConfig


class ForwardingConfig(AppConfig):
    name = "townhall.forwarding"
    label = "forwarding"
    verbose_name = "Forwarding to other bodies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from townhall.forwarding.models import Body, RoutingRule
        from townhall.forwarding.routing import routing_cache_clear

        for model in (Body, RoutingRule):
            post_save.connect(routing_cache_clear, sender=model, dispatch_uid=f"fwd-{model}")
            post_delete.connect(routing_cache_clear, sender=model, dispatch_uid=f"fwd-d-{model}")
        m2m_changed.connect(
            routing_cache_clear, sender=RoutingRule.service_types.through, dispatch_uid="fwd-m2m"
        )
