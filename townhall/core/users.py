"""The types of the people signed in to the site, for annotations only.

`StaffUser` is a staff member's account (Django's user model); `SiteUser` is whoever made a
request: a staff account or an anonymous visitor (`request.user`). Residents are not users:
they are `people.Citizen`s, proven by contact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    StaffUser: TypeAlias = User
    SiteUser: TypeAlias = User | AnonymousUser
