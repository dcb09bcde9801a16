"""Photo recognition: what a resident's photo shows, as tags mapped to service types.

Staff-facing only: tags help triage and let staff filter cases; they are never shown to the
public as fact. The model runs offline (onnxruntime, weights from an installed package).
See docs/vision.md.
"""

from django.apps import AppConfig


class VisionConfig(AppConfig):
    name = "townhall.vision"
    label = "vision"
    verbose_name = "Photo recognition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from townhall.cases.signals import photos_added
        from townhall.vision.receivers import photos_added_tag

        photos_added.connect(photos_added_tag, dispatch_uid="vision.photos_added_tag")
