"""Settings for the portal benchmark: the product's with DEBUG off, static files unhashed
(the bench renders pages in-process, without collectstatic)."""

from townhall.settings import *  # noqa: F403
from townhall.settings import STORAGES

DEBUG = False
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The load comes from one client on loopback: the limiter counts every request as in
# production (its cost is in the figures) with limits no benchmark reaches.
TOWNHALL_RATE_LIMITS = dict.fromkeys(TOWNHALL_RATE_LIMITS, "1000000000/minute")  # noqa: F405
