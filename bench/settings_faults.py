"""Settings for the fault and surge benches' processes: the product's, with every channel
going to the file provider (townhall/notify/channels/fakes.py) and limits no bench reaches."""

import os

from townhall.settings import *  # noqa: F403
from townhall.settings import STATIC_ROOT, TOWNHALL_RATE_LIMITS

DEBUG = False
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
TOWNHALL_CHANNELS = {
    name: {
        "BACKEND": "townhall.notify.channels.fakes.FileProvider",
        "OPTIONS": {"path": os.environ["TOWNHALL_FAKE_PROVIDER_FILE"]},
    }
    for name in ("email", "sms", "webhook", "inapp")
}
# The limiter counts every request as in production (its cost is in the figures), with
# limits no bench reaches: the load comes from one client address.
TOWNHALL_RATE_LIMITS = dict.fromkeys(TOWNHALL_RATE_LIMITS, "1000000000/minute")
