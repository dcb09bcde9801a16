"""Task entry points for photo recognition: thin wrappers that take ids and call a service."""

from __future__ import annotations

from django_tasks import task

from townhall.vision import services


@task()
def tag_case_photo(photo_id: int) -> int:
    """Tag one stored case photo (enqueued after the commit that added it)."""
    return len(services.case_photo_tag(photo_id))
