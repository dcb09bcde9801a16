"""Settings for django-helpdesk 2.6.1 with its REST API at /api/tickets/ (see bench/helpdesk_env.py).

The database comes from HELPDESK_DATABASE_URL (postgres://user[:password]@host:port/name).
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/helpdesk_bench"


def database(url: str) -> dict[str, object]:
    """Django's DATABASES entry for a postgres:// URL."""
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,  # as Townhall's default
    }


SECRET_KEY = "bench-only-not-secret"  # noqa: S105 - a throwaway local benchmark server
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.helpdesk.urls"
WSGI_APPLICATION = "bench.helpdesk.wsgi.application"
DATABASES = {"default": database(os.environ.get("HELPDESK_DATABASE_URL", DEFAULT_DATABASE_URL))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
SITE_ID = 1  # helpdesk reads the Site for links in its e-mails

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
MEDIA_ROOT = str(BASE_DIR.parent.parent / "var" / "bench" / "helpdesk-media")

# django-helpdesk: the API on (it is by default in 2.6.1; the setting is HELPDESK_API_ENABLED),
# no pinax-teams, no webhooks whatever the environment says. (The knowledge base stays on:
# HELPDESK_KB_ENABLED = False makes 2.6.1's helpdesk/urls.py fail with NameError: name 'kb'.)
HELPDESK_API_ENABLED = True
HELPDESK_TEAMS_MODE_ENABLED = False
HELPDESK_GET_NEW_TICKET_WEBHOOK_URLS = lambda: None  # noqa: E731
HELPDESK_GET_FOLLOWUP_WEBHOOK_URLS = lambda: None  # noqa: E731

# Messages are still rendered (that is part of creating a ticket) but never sent or kept:
# locmem would grow a list in each worker for the whole run, console would print each one.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.invalid"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    # TicketViewSet sets its own pagination_class (PageNumberPagination, 25 a page, ?page_size=),
    # which wins over this; the global one is kept so that no list is ever unpaginated: an
    # unpaginated list of 1M tickets would be a meaningless comparison.
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Errors only (500s with their traceback): django.request's 4xx warnings propagate here too.
    "handlers": {"stderr": {"class": "logging.StreamHandler", "level": "ERROR"}},
    "root": {"handlers": ["stderr"], "level": "ERROR"},
}
