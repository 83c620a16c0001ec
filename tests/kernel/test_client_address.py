"""The client IP behind proxies: X-Forwarded-For only from trusted proxies, read from the right."""

from __future__ import annotations

import re

import pytest

from kernel.http.client_address import client_address, parse_address, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "127.0.0.1", "2001:db8::/32"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # not from a trusted proxy: the header is whatever the client wrote, ignored
        ("198.51.100.9", ["203.0.113.5"], "198.51.100.9"),
        # from a trusted proxy: the address it received the request from
        ("10.0.0.2", ["203.0.113.5"], "203.0.113.5"),
        # the client's own prefix (spoofed) is left of the untrusted address the proxy appended
        ("10.0.0.2", ["1.2.3.4, 203.0.113.5"], "203.0.113.5"),
        # a chain of trusted proxies: skip them all, from the right
        ("127.0.0.1", ["1.2.3.4, 203.0.113.5, 10.1.1.1, 10.2.2.2"], "203.0.113.5"),
        # several header lines are one list, in order
        ("10.0.0.2", ["1.2.3.4", "203.0.113.5, 10.9.9.9"], "203.0.113.5"),
        # every hop trusted: the left-most
        ("10.0.0.2", ["10.3.3.3, 10.4.4.4"], "10.3.3.3"),
        # no header, or an empty one: the proxy itself
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", [" , "], "10.0.0.2"),
        # garbage ends the walk at the last trusted hop
        ("10.0.0.2", ["203.0.113.5, not-an-ip"], "10.0.0.2"),
        ("10.0.0.2", ["not-an-ip, 10.5.5.5"], "10.5.5.5"),
        # ports and brackets as some proxies write them; IPv6
        ("10.0.0.2", ["203.0.113.5:4711"], "203.0.113.5"),
        ("10.0.0.2", ["[2001:db9::7]:443"], "2001:db9::7"),
        ("2001:db8::1", ["2001:db9::7, 2001:db8::2"], "2001:db9::7"),
        # an IPv4-mapped peer is the IPv4 proxy
        ("::ffff:10.0.0.2", ["203.0.113.5"], "203.0.113.5"),
    ],
)
def test_client_address(peer: str, forwarded: list[str], client: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("127.0.0.1", ["203.0.113.5"], ()) == "127.0.0.1"
    assert client_address(None, ["203.0.113.5"], PROXIES) is None


@pytest.mark.parametrize("value", ["", "host.example", "[::1", "[::1]x", "1.2.3.4.5", "300.1.1.1"])
def test_what_is_not_an_address(value: str) -> None:
    assert parse_address(value) is None


def test_a_bad_network_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("'10.0.0.0/33' is not an IP address or network")):
        parse_networks(["10.0.0.0/33"])
