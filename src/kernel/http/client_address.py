"""The client's IP address, which rate limits, sign-in throttling and sessions are keyed by.

By default it is the socket peer and `X-Forwarded-For` is ignored: anyone can send that header, so trusting
it would let a client pick a fresh address for every request. Behind a reverse proxy, list the proxies in
`FREIGHTDESK_TRUSTED_PROXIES` (addresses or networks). Only when the direct peer is one of them is
`X-Forwarded-For` read, from the right: each trusted proxy appended the address it received the request
from, so the right-most address that is not a trusted proxy is the client (anything left of it was written
by the client itself and proves nothing). When every hop is a trusted proxy, the left-most one is the client;
an entry that is not an IP address ends the walk at the last proxy that is known to be trusted.

The ASGI server passes the socket peer through unchanged (`freightdesk run` turns uvicorn's own
`X-Forwarded-For` handling off); `client_address_middleware` replaces `scope["client"]`, so every reader
(`request.client`) sees the same address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

FORWARDED_FOR = b"x-forwarded-for"


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """`10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`; raises ValueError naming the first bad one."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network") from None
    return tuple(networks)


def parse_address(value: str) -> Address | None:
    """An address as proxies write it: bare, IPv4 `host:port`, or `[v6]` / `[v6]:port`; None if it is none."""
    text = value.strip()
    if text.startswith("["):
        end = text.find("]")
        if end == -1 or (end + 1 < len(text) and not text[end + 1 :].startswith(":")):
            return None
        text = text[1:end]
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has at least two colons
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str | None:
    """The client's address given the socket peer and the `X-Forwarded-For` header values, in order."""
    peer_address = parse_address(peer) if peer else None
    if peer_address is None or not _trusted(peer_address, trusted):
        return peer
    client = peer_address
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, trusted):
            break
    return str(client)


def client_address_middleware(trusted: Sequence[Network]) -> Callable[[ASGIApp], ASGIApp]:
    """A middleware factory (for Litestar's `middleware=[...]`) that puts the client's address in
    `scope["client"]`; with no trusted proxy there is nothing to do, and none should be installed."""
    networks = tuple(trusted)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            peer = scope.get("client")
            if peer is not None and scope["type"] in ("http", "websocket"):
                forwarded = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == FORWARDED_FOR]
                host = client_address(peer[0], forwarded, networks)
                if host is not None and host != peer[0]:
                    scope["client"] = (host, 0)
            await app(scope, receive, send)

        return middleware

    return factory
