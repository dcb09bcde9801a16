"""Where an outgoing webhook may connect: public addresses only, unless the council allows
more (docs/security/input.md).

A webhook URL is typed by an administrator or a subscriber; without this check it could
point Townhall at its own database, a cloud metadata service (169.254.169.254) or any
machine on the council's network, with a signed POST. The host is resolved, *every*
address it resolves to is checked, and the connection is made to one of the addresses that
were checked: a DNS answer that changes between the check and the connection (DNS
rebinding) cannot slip a private address in.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AddressAllowed",
    "AddressPolicy",
    "AddressRefused",
    "address_policy",
    "addresses_checked",
    "guarded_handlers",
    "url_address_refusal",
]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressAllowed = Callable[[IpAddress], bool]


class AddressRefused(OSError):
    """The host resolves to an address outgoing webhooks may not reach."""


def _plain(ip: IpAddress) -> IpAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip


@dataclass(frozen=True)
class AddressPolicy:
    """Public unicast addresses, plus those inside `networks`. Equal policies compare equal,
    so the HTTP transport keeps one connection pool per policy, not per channel object."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def __call__(self, address: IpAddress) -> bool:
        ip = _plain(address)
        if any(ip.version == n.version and ip in n for n in self.networks):
            return True
        # is_global is False for private, loopback, link-local, shared (CGNAT), reserved
        # and unspecified addresses.
        return ip.is_global and not ip.is_multicast


def address_policy(allowed_networks: Iterable[str] = ()) -> AddressAllowed:
    """Public unicast addresses, plus those inside `allowed_networks` (CIDRs the council
    allows, e.g. "127.0.0.1/32" for the demo or "10.20.0.0/16" for its own systems)."""
    return AddressPolicy(
        tuple(ipaddress.ip_network(n.strip(), strict=False) for n in allowed_networks if n)
    )


def addresses_checked(host: str, port: int, allowed: AddressAllowed) -> list[Any]:
    """`getaddrinfo` for `host`, refused (AddressRefused) unless every address is allowed."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        literal = str(info[4][0]).split("%", 1)[0]  # an IPv6 zone id is not an address
        if not allowed(ipaddress.ip_address(literal)):
            raise AddressRefused(f"{host} resolves to a non-public address ({literal})")
    if not infos:
        raise AddressRefused(f"{host} resolves to no address")
    return infos


def url_address_refusal(url: str, allowed: AddressAllowed) -> str:
    """Why `url` may not receive webhooks ("" if it may), resolving its host now."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Give an http or https address."
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses_checked(parts.hostname, port, allowed)
    except AddressRefused as exc:
        return f"{exc}. Webhooks only go to public addresses unless the council allows more."
    except (OSError, ValueError, UnicodeError):
        return f"{parts.hostname} cannot be resolved."
    return ""


def _connector(allowed: AddressAllowed) -> Callable[..., socket.socket]:
    def create_connection(
        address: tuple[str, int], timeout: Any = None, source_address: Any = None, **_: Any
    ) -> socket.socket:
        host, port = address
        error: OSError | None = None
        for family, kind, proto, _name, sockaddr in addresses_checked(host, port, allowed):
            sock = socket.socket(family, kind, proto)
            try:
                if timeout is not None and timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)  # the address checked above, not a new lookup
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError(f"cannot connect to {host}")

    return create_connection


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, allowed: AddressAllowed, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _connector(allowed)


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, allowed: AddressAllowed, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _connector(allowed)


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allowed: AddressAllowed) -> None:
        super().__init__()
        self.allowed = allowed

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connection(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            return _GuardedHTTPConnection(host, allowed=self.allowed, **kwargs)

        return self.do_open(connection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allowed: AddressAllowed) -> None:
        super().__init__()
        self.allowed = allowed

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connection(host: str, **kwargs: Any) -> http.client.HTTPSConnection:
            return _GuardedHTTPSConnection(host, allowed=self.allowed, **kwargs)

        return self.do_open(connection, req, context=self._context)  # type: ignore[attr-defined]


def guarded_handlers(allowed: AddressAllowed) -> list[urllib.request.BaseHandler]:
    """urllib handlers that connect only to allowed addresses (and never through a proxy
    from the environment, whose own address would be the one checked)."""
    return [
        urllib.request.ProxyHandler({}),
        _GuardedHTTPHandler(allowed),
        _GuardedHTTPSHandler(allowed),
    ]
