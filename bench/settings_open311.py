"""Settings for the Open311 benchmark's server: the product's, plus a minimal JSON view."""

from townhall.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_open311"
DEBUG = False
