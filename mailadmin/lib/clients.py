"""Whose request is this: the client's own address, when it is known.

Django-agnostic. A request's connecting address (``REMOTE_ADDR``) is the client
only when nothing stands between them; behind a reverse proxy every user
arrives from the proxy's address. Counting login failures per client on that
address lets anyone lock every user out, so the address is *known* only when:

- the connection comes from a trusted proxy (``trusted``: addresses or
  networks) that supplied ``X-Forwarded-For``: the client is the right-most
  address in it that is not itself a trusted proxy (each proxy appends the
  address it saw; what the client wrote itself is further left and ignored);
- or the operator says clients connect directly (``direct``) and the
  connection comes neither from a trusted proxy nor from a loopback address
  (an undeclared proxy on the same host would otherwise pass for one client).

Anything else (no proxy configured and a connection from loopback, a trusted
proxy without ``X-Forwarded-For``, a header that does not parse) is unknown:
``None``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``["127.0.0.1", "10.0.0.0/8", "::1"]`` as networks; ValueError names a bad entry."""
    networks = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address or network (such as 127.0.0.1 or 10.0.0.0/8).") from None
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """An IP address (IPv4-mapped IPv6 as IPv4), or None when ``text`` is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def forwarded_client(forwarded: str, trusted: tuple[Network, ...]) -> Address | None:
    """The right-most address of an ``X-Forwarded-For`` value that is not a trusted proxy."""
    for entry in reversed(forwarded.split(",")):
        address = parse_address(entry)
        if address is None:
            return None  # a value the proxy did not write: nothing left of it can be believed
        if not _trusted(address, trusted):
            return address
    return None


def client_address(remote: str, forwarded: str, *, trusted: Iterable[str], direct: bool) -> str | None:
    """The client's own address as text, or None when it is not known (see the module's rules)."""
    networks = parse_networks(trusted)
    connecting = parse_address(remote or "")
    if connecting is None:
        return None
    if _trusted(connecting, networks):
        client = forwarded_client(forwarded, networks) if forwarded else None
        return str(client) if client else None
    if direct and not connecting.is_loopback:
        return str(connecting)
    return None
