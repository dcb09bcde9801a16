"""Settings for the Open311 benchmark's server: the product's, plus a minimal JSON view."""

from townhall.settings import *  # noqa: F403
from townhall.settings import STATIC_ROOT

ROOT_URLCONF = "bench.urls_open311"
DEBUG = False
# WhiteNoise warns on every start when the collected-static folder is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# The load comes from one client on loopback: the limiter counts every request as in
# production (its cost is in the figures) with limits no benchmark reaches.
TOWNHALL_RATE_LIMITS = dict.fromkeys(TOWNHALL_RATE_LIMITS, "1000000000/minute")  # noqa: F405
