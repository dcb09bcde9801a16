"""Channel adapters: how one outbox message is handed to e-mail, SMS, webhooks or the portal.

The outbox worker asks :func:`channel_adapter` for a channel's adapter and calls
``adapter.send(OutgoingMessage(...))``; it gets a :class:`SendResult` or a
:class:`ChannelError` that says whether a retry can help.
"""

from townhall.notify.channels.base import (
    ChannelAdapter,
    ChannelError,
    HttpResponse,
    OutgoingMessage,
    SendResult,
    Transport,
    urllib_transport,
)
from townhall.notify.channels.email import EmailChannel
from townhall.notify.channels.http import http_transport
from townhall.notify.channels.inapp import InAppChannel
from townhall.notify.channels.registry import channel_adapter, channel_adapters_reset
from townhall.notify.channels.sms import ConsoleSms, FakeSmsProvider, HttpSmsGateway, sms_segments
from townhall.notify.channels.webhook import WebhookChannel, webhook_signature, webhook_verify

__all__ = [
    "ChannelAdapter",
    "ChannelError",
    "ConsoleSms",
    "EmailChannel",
    "FakeSmsProvider",
    "HttpResponse",
    "HttpSmsGateway",
    "InAppChannel",
    "OutgoingMessage",
    "SendResult",
    "Transport",
    "WebhookChannel",
    "channel_adapter",
    "channel_adapters_reset",
    "http_transport",
    "sms_segments",
    "urllib_transport",
    "webhook_signature",
    "webhook_verify",
]
