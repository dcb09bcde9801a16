"""What the console keeps of its own: the council's canned responses."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from townhall.catalog.models import Department

PLACEHOLDERS = ("name", "reference", "service", "status", "expected_date", "staff_name")
_FIELD = re.compile(r"\{([a-z_]+)\}")


class CannedResponse(models.Model):
    """A reply staff reuse, with placeholders filled from the case: {name}, {reference},
    {service}, {status}, {expected_date}, {staff_name}."""

    title = models.CharField(max_length=120)
    body = models.TextField(
        help_text=_(
            "Placeholders: {name} {reference} {service} {status} {expected_date} {staff_name}."
        )
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
        help_text=_("Leave empty to offer it to every department."),
    )
    public = models.BooleanField(
        default=True, help_text=_("Written for the resident (a public update).")
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        unknown = sorted(set(_FIELD.findall(self.body)) - set(PLACEHOLDERS))
        if unknown:
            raise ValidationError(
                {"body": _("Unknown placeholder(s): %(names)s.") % {"names": ", ".join(unknown)}}
            )

    def render(self, values: Mapping[str, str]) -> str:
        """The body with its placeholders filled; anything odd is left as written."""
        return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), self.body)


class SavedView(models.Model):
    """A queue with its filters, saved by a member of staff under a name of their own."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=60)
    queue = models.SlugField(max_length=20)
    query = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="unique_saved_view_name")
        ]

    def __str__(self) -> str:
        return self.name


class SingleSignOnIdentity(models.Model):
    """The council provider's stable subject (`sub`) a staff account is bound to.

    Written at the account's first single sign-on; from then on only that subject signs in
    as this account, whatever e-mail address a provider's account claims.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity"
    )
    subject = models.CharField(max_length=255, unique=True)
    bound_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("single sign-on identity")
        verbose_name_plural = _("single sign-on identities")

    def __str__(self) -> str:
        return f"{self.user} ↔ {self.subject}"
