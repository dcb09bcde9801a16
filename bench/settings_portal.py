"""Settings for the portal benchmark: the product's with DEBUG off, static files unhashed
(the bench renders pages in-process, without collectstatic)."""

from townhall.settings import *  # noqa: F403
from townhall.settings import STORAGES

DEBUG = False
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
