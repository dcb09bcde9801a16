"""`jurisdiction_id`: accepted everywhere, required when the site serves several councils."""

from __future__ import annotations

from django.http import HttpRequest

from townhall.catalog.models import Jurisdiction
from townhall.catalog.selectors import jurisdiction_list
from townhall.open311.render import Open311Error


def jurisdiction_for(request: HttpRequest) -> Jurisdiction:
    """Return the jurisdiction a request names, or the only one; raise Open311Error if
    the id is unknown, or missing while several councils are served."""
    wanted = (
        request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or ""
    ).strip()
    councils = jurisdiction_list()
    if wanted:
        found = next((j for j in councils if j.open311_id == wanted), None)
        if found is None:
            raise Open311Error(404, f"jurisdiction_id {wanted!r} is not served here.")
        return found
    if len(councils) == 1:
        return councils[0]
    if not councils:
        raise Open311Error(404, "No jurisdiction is configured yet.")
    raise Open311Error(400, "jurisdiction_id is required: this server hosts several jurisdictions.")


def serves_several() -> bool:
    """Return whether this site hosts more than one jurisdiction."""
    return len(jurisdiction_list()) > 1
