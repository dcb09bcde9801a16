"""Where a request came from reads in the resident's language (the account page's "How")."""

from __future__ import annotations

import pytest
from django.utils import translation

from townhall.people.models import Channel


@pytest.mark.parametrize(
    ("channel", "spanish"),
    [(Channel.WEB, "Portal web"), (Channel.PHONE, "Teléfono"), (Channel.COUNTER, "En persona")],
)
def test_channel_labels_are_translated_to_spanish(channel: Channel, spanish: str) -> None:
    with translation.override("es"):
        assert str(channel.label) == spanish
    with translation.override("en"):
        assert str(channel.label) != spanish
