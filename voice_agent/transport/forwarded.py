"""Who is really calling when a proxy stands in front: `server.trusted_proxies`.

Behind HAProxy or nginx every request comes from the proxy's address, so the desk's sign-in
throttle, the per-caller limits and the web caller id would all see one caller, and behind a
TLS proxy the page's own origin (https) would not match the plain http the agent receives.
The proxy says who and how in `X-Forwarded-For` and `X-Forwarded-Proto`; those headers are
believed only from a configured proxy (anyone else could write them to dodge a throttle).
The client is the rightmost X-Forwarded-For hop that is not itself a trusted proxy: hops to
its left were written by whoever the client is, and prove nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = ("http", "https")


def proxy_networks(entries: Iterable[str]) -> tuple[IpNetwork, ...]:
    """Addresses or networks ("10.0.0.5", "10.1.0.0/16", "::1") as networks; ValueError
    names an entry that is neither."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


def host_address(text: str) -> IpAddress | None:
    """The IP address in a forwarded hop or peer: "203.0.113.7", "203.0.113.7:5060",
    "[2001:db8::1]:443", "2001:db8::1"; None for anything else (a name, "unknown")."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_trusted(address: str | None, networks: Sequence[IpNetwork]) -> bool:
    if not networks or not address:  # the usual case (no proxy), on every request and datagram
        return False
    parsed = host_address(address)
    return parsed is not None and any(parsed in network for network in networks)


def client_address(peer: str, forwarded_for: Iterable[str], networks: Sequence[IpNetwork]) -> str:
    """The caller's address: `peer` itself unless it is a trusted proxy; then the rightmost
    hop of the X-Forwarded-For values that is not a trusted proxy (every hop trusted: the
    leftmost). A hop that is no IP address ends the walk: the last trusted one is the answer,
    as nothing says who stands behind it."""
    if not is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = host_address(hop)
        if address is None:
            break
        client = str(address)
        if not is_trusted(client, networks):
            break
    return client


def forwarded_scheme(
    peer: str | None, forwarded_proto: str | None, networks: Sequence[IpNetwork]
) -> str | None:
    """The scheme ("http" or "https") by which the trusted proxy in front was reached (its
    X-Forwarded-Proto; the nearest, rightmost value), or None: not from a trusted proxy, or
    nothing usable."""
    if forwarded_proto is None or not is_trusted(peer, networks):
        return None
    scheme = forwarded_proto.split(",")[-1].strip().lower()
    return scheme if scheme in SCHEMES else None


def forwarded_middleware(networks: Sequence[IpNetwork]) -> Middleware:
    """Rewrites a request from a trusted proxy so that `request.remote` is the client and
    `request.scheme` what the client used: every handler (the desk's throttle, the web
    caller id, the own-origin check) reads the same answer."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.remote
        if peer is None or not is_trusted(peer, networks):
            return await handler(request)
        remote = client_address(peer, request.headers.getall("X-Forwarded-For", []), networks)
        proto = forwarded_scheme(peer, request.headers.get("X-Forwarded-Proto"), networks)
        return await handler(request.clone(remote=remote, scheme=proto or request.scheme))

    return middleware
