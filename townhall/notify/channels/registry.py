"""Which adapter sends each channel: ``settings.TOWNHALL_CHANNELS``, over built-in defaults.

::

    TOWNHALL_CHANNELS = {
        "sms": {
            "BACKEND": "townhall.notify.channels.sms.HttpSmsGateway",
            "OPTIONS": {"account_sid": "...", "auth_token": "...", "from_number": "+1..."},
        },
    }

Each entry replaces the default of that name; the other defaults stay (email →
EmailChannel, sms → ConsoleSms, webhook → WebhookChannel without secrets, inapp →
InAppChannel). An entry set to ``None`` turns a channel off. ``OPTIONS`` are passed to the
backend as keyword arguments, plus ``name=<channel name>`` when the backend takes a ``name``
and OPTIONS does not set one. Adapters are built on first use and kept for the process;
:func:`channel_adapters_reset` forgets them (done automatically when a test changes the
setting).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from townhall.notify.channels.base import ChannelAdapter, ChannelError

__all__ = ["DEFAULT_CHANNELS", "channel_adapter", "channel_adapters_reset", "no_webhook_secret"]

SETTING = "TOWNHALL_CHANNELS"


def no_webhook_secret(url: str) -> str:
    """The default ``secret_for``: no subscriber secrets are configured, so nothing is sent."""
    raise ChannelError(
        f"no signing secret configured for webhook endpoint {url!r}",
        retryable=False,
        code="no_secret",
    )


DEFAULT_CHANNELS: Mapping[str, Mapping[str, Any]] = {
    "email": {"BACKEND": "townhall.notify.channels.email.EmailChannel"},
    "sms": {"BACKEND": "townhall.notify.channels.sms.ConsoleSms"},
    "webhook": {
        "BACKEND": "townhall.notify.channels.webhook.WebhookChannel",
        "OPTIONS": {"secret_for": no_webhook_secret},
    },
    "inapp": {"BACKEND": "townhall.notify.channels.inapp.InAppChannel"},
}

_lock = threading.RLock()  # re-entrant: a backend may look up another channel
_adapters: dict[str, ChannelAdapter] = {}


def _configuration() -> dict[str, Mapping[str, Any] | None]:
    configured = getattr(settings, SETTING, None)
    if configured is None:
        configured = {}
    if not isinstance(configured, Mapping):
        raise ImproperlyConfigured(f"settings.{SETTING} must be a dict of channel name → entry")
    return {**DEFAULT_CHANNELS, **configured}


def _build(name: str, entry: Mapping[str, Any]) -> ChannelAdapter:
    if not isinstance(entry, Mapping) or "BACKEND" not in entry:
        raise ImproperlyConfigured(f"settings.{SETTING}[{name!r}] needs a 'BACKEND'")
    backend = entry["BACKEND"]
    factory = import_string(backend) if isinstance(backend, str) else backend
    options: dict[str, Any] = dict(entry.get("OPTIONS") or {})
    if "name" not in options:
        try:
            takes_name = "name" in inspect.signature(factory).parameters
        except (TypeError, ValueError):
            takes_name = False
        if takes_name:
            options["name"] = name
    adapter = factory(**options)
    if not isinstance(adapter, ChannelAdapter):
        raise ImproperlyConfigured(
            f"settings.{SETTING}[{name!r}]: {backend!r} did not make a channel adapter "
            "(an object with a 'name' and a 'send(message)' method)"
        )
    return adapter


def channel_adapter(name: str) -> ChannelAdapter:
    """The adapter that sends channel ``name``; built once per process.

    Raises KeyError for a channel that is neither a default nor in ``TOWNHALL_CHANNELS``
    (or is turned off there with ``None``).
    """
    with _lock:
        adapter = _adapters.get(name)
        if adapter is not None:
            return adapter
        configuration = _configuration()
        entry = configuration.get(name)
        if entry is None:
            known = ", ".join(sorted(k for k, v in configuration.items() if v is not None))
            state = "is turned off" if name in configuration else "is not configured"
            raise KeyError(
                f"notification channel {name!r} {state} (settings.{SETTING}); "
                f"available: {known or 'none'}"
            )
        adapter = _build(name, entry)
        _adapters[name] = adapter
        return adapter


def channel_adapters_reset() -> None:
    """Forget the built adapters, so the next lookup reads the settings again."""
    with _lock:
        _adapters.clear()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING:
        channel_adapters_reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="townhall.notify.channels.registry")
