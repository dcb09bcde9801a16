"""The pages a council must publish: privacy notice, accessibility statement, cookie
statement, contact, how to report a security flaw, and /.well-known/security.txt (RFC 9116).

Each page is a template of its own under portal/pages/; a council replaces one by putting
a file of the same name in ``TOWNHALL_TEMPLATES_DIR`` (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import dates, timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from townhall.catalog.i18n import localized
from townhall.catalog.models import Jurisdiction
from townhall.catalog.selectors import council_contact, jurisdiction_list


def _council() -> Jurisdiction | None:
    councils = jurisdiction_list()
    return councils[0] if councils else None


def _common() -> dict[str, Any]:
    council = _council()
    return {
        "council": council,
        "council_name": council.name if council else "",
        "answers_minutes": settings.TOWNHALL_ANSWERS_KEEP_MINUTES,
        "security_contact": settings.TOWNHALL_SECURITY_CONTACT,
    }


@require_GET
def privacy_view(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/pages/privacy.html", _common())


@require_GET
def accessibility_view(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/pages/accessibility.html", _common())


@require_GET
def cookies_view(request: HttpRequest) -> HttpResponse:
    context = _common() | {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "session_days": settings.SESSION_COOKIE_AGE // 86400,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "csrf_days": settings.CSRF_COOKIE_AGE // 86400,
        "language_cookie": settings.LANGUAGE_COOKIE_NAME,
    }
    return render(request, "portal/pages/cookies.html", context)


@require_GET
def contact_view(request: HttpRequest) -> HttpResponse:
    context = _common()
    council = context["council"]
    if council is not None:
        calendar, departments = council_contact(jurisdiction=council)
        language = get_language()
        context |= {
            "days": [str(dates.WEEKDAYS[d]) for d in sorted(calendar.workdays)],
            "opens": calendar.opens,
            "closes": calendar.closes,
            "departments": [
                {"name": localized(d, "name", language), "email": d.email, "phone": d.phone}
                for d in departments
            ],
        }
    return render(request, "portal/pages/contact.html", context)


@require_GET
def security_view(request: HttpRequest) -> HttpResponse:
    context = _common() | {"security_txt": reverse("portal:security-txt")}
    return render(request, "portal/pages/security.html", context)


def _absolute(path: str) -> str:
    base: str = settings.TOWNHALL_PUBLIC_URL
    return base.rstrip("/") + path


@require_GET
def security_txt_view(request: HttpRequest) -> HttpResponse:
    """RFC 9116: where to report a flaw, until when this is true, and in which languages."""
    expires = timezone.now().replace(microsecond=0) + dt.timedelta(
        days=settings.TOWNHALL_SECURITY_TXT_DAYS
    )
    policy = settings.TOWNHALL_SECURITY_POLICY_URL or _absolute(reverse("portal:security"))
    lines = [
        f"Contact: {settings.TOWNHALL_SECURITY_CONTACT}",
        f"Expires: {expires.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"Policy: {policy}",
        f"Preferred-Languages: {', '.join(code for code, _ in settings.LANGUAGES)}",
        f"Canonical: {_absolute(reverse('portal:security-txt'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
