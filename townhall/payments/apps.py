from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "townhall.payments"
    label = "payments"
    verbose_name = "Payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from townhall.payments.fees import fee_services_clear
        from townhall.payments.models import Fee

        post_save.connect(fee_services_clear, sender=Fee, dispatch_uid="payments-fee-saved")
        post_delete.connect(fee_services_clear, sender=Fee, dispatch_uid="payments-fee-deleted")
