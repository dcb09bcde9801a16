"""URL routes: the citizen portal at /, the caseworker console at /console/, admin at /admin/."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Townhall administration"
admin.site.site_title = "Townhall"
admin.site.index_title = "Council configuration and cases"

urlpatterns = [
    *([path("oidc/", include("mozilla_django_oidc.urls"))] if settings.TOWNHALL_OIDC else []),
    path("admin/", admin.site.urls),
    path("console/", include("townhall.console.urls")),
    path("hooks/", include("townhall.hooks.urls")),
    # Without its secret anymail would take anyone's delivery reports: not served in
    # production then (settings.py refuses to start with an anymail backend and no secret).
    *(
        [path("hooks/anymail/", include("anymail.urls"))]
        if settings.ANYMAIL.get("WEBHOOK_SECRET") or not settings.PRODUCTION
        else []
    ),
    path("open311/v2/", include("townhall.open311.urls")),
    path("open-data/", include("townhall.open311.open_data_urls")),
    path("api/assistant/", include("townhall.assistant.urls")),
    path("api/assistant/", include("townhall.assistant.urls_transport")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("townhall.ops.urls")),
    path("", include("townhall.portal.urls")),
]
