"""What the demo command tells and sets before it serves: its public address and where
the messages it sends end up."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from townhall.notify.channels.registry import channel_adapter
from townhall.notify.channels.sms import ConsoleSms

# Addresses that mean "every interface": a browser (and a link in a message) cannot use
# them, so links name this machine instead.
_ANY_HOST = {"0.0.0.0", "::", "[::]", ""}  # noqa: S104 - compared, never bound


def public_url_for(addr: str) -> str:
    """Return the base address links should use when the demo serves on `addr`, in
    runserver's forms: "8080", "127.0.0.1:8080", "0.0.0.0:8080", "[::1]:8080"."""
    addr = addr.strip()
    if addr.isdigit():
        return f"http://127.0.0.1:{addr}"
    host, _, port = addr.rpartition(":")
    if not port.isdigit():
        host, port = addr, "8000"  # a host alone: runserver's default port
    if host in _ANY_HOST:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # a bare IPv6 address
    return f"http://{host}:{port}"


def deliveries_described() -> tuple[str, str]:
    """Return where e-mail and texts go with this configuration, in a few words each."""
    backend = settings.EMAIL_BACKEND
    if backend == "django.core.mail.backends.filebased.EmailBackend":
        mail = f"written as files (one per message) to {settings.EMAIL_FILE_PATH}/"
    elif backend == "django.core.mail.backends.console.EmailBackend":
        mail = "printed in this terminal by the worker"
    else:
        mail = f"sent through {backend}"
    try:
        sms = channel_adapter("sms")
    except (ImproperlyConfigured, ImportError, TypeError, ValueError):  # the worker says more
        sms = None
    if isinstance(sms, ConsoleSms):
        texts = "printed in this terminal by the worker (lines starting 'SMS to')"
    else:
        entry = getattr(settings, "TOWNHALL_CHANNELS", {}).get("sms", {})
        texts = f"sent through {entry.get('BACKEND', 'the SMS gateway')}"
    return mail, texts
