"""Settings for the crash test's worker process: every channel goes to a file provider."""

import os

from townhall.settings import *  # noqa: F403

TOWNHALL_CHANNELS = {
    name: {
        "BACKEND": "townhall.notify.channels.fakes.FileProvider",
        "OPTIONS": {"path": os.environ["TOWNHALL_FAKE_PROVIDER_FILE"]},
    }
    for name in ("email", "sms", "webhook", "inapp")
}
TOWNHALL_NOTIFY_LEASE_SECONDS = 3
LOGGING = {"version": 1, "disable_existing_loggers": False}
