"""Fixtures shared by the notification tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from townhall.notify.channels.registry import channel_adapters_reset
from townhall.notify.channels.sms import FakeSmsProvider


@pytest.fixture
def sms_provider(settings: Any) -> Iterator[FakeSmsProvider]:
    provider = FakeSmsProvider()
    settings.TOWNHALL_CHANNELS = {
        "sms": {
            "BACKEND": "townhall.notify.channels.sms.HttpSmsGateway",
            "OPTIONS": {
                "account_sid": "AC123",
                "auth_token": "secret",
                "from_number": "+16175550100",
                "transport": provider,
            },
        }
    }
    channel_adapters_reset()
    yield provider
    channel_adapters_reset()
