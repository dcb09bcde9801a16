"""Settings for the notify benchmark's sender processes: channels go to a file provider."""

import os

from townhall.settings import *  # noqa: F403

TOWNHALL_CHANNELS = {
    name: {
        "BACKEND": "townhall.notify.channels.fakes.FileProvider",
        "OPTIONS": {"path": os.environ["TOWNHALL_FAKE_PROVIDER_FILE"]},
    }
    for name in ("email", "sms", "webhook", "inapp")
}
