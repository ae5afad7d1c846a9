"""Which endpoint addresses are accepted: https only, and never an address inside our own network (SSRF)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from app.models.webhooks import URL_LENGTH

#: Hosts accepted over plain http when WEBHOOKS_ALLOW_LOOPBACK is on (tests, development).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def url_problem(url: str, *, allow_loopback: bool = False) -> str | None:
    """Return why `url` cannot be a webhook endpoint, in words, or None when it can.

    Accepted: https:// to a host name or a public IP address; with `allow_loopback`, also http(s) to
    127.0.0.1, ::1 or localhost. Refused: other schemes, credentials in the address, and IP literals that are
    private, loopback, link-local (cloud metadata at 169.254.169.254), multicast, reserved or unspecified.
    """
    if len(url) > URL_LENGTH:
        return str(_l("The address is too long."))
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  # raises ValueError on a port that is not a number
    except ValueError:
        return str(_l("This is not a valid address."))
    if parts.scheme not in ("http", "https") or not host:
        return str(_l("Enter a full address that starts with https://."))
    if parts.username is not None or parts.password is not None:
        return str(_l("The address must not contain a user name or password."))
    if allow_loopback and host in LOOPBACK_HOSTS:
        return None
    if parts.scheme != "https":
        return str(_l("Only https:// addresses are accepted."))
    if host == "localhost" or host.endswith(".localhost"):
        return str(_l("Addresses inside this server's own network are refused."))
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        try:  # the resolver also reads the old forms "167772161", "0x0a000001" and "10.1" as IPv4 addresses
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None  # a host name
    if (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified):
        return str(_l("Addresses inside this server's own network are refused."))
    return None
