"""The one outbound HTTP policy for every request the service makes to a platform.

- connect and read timeouts from settings;
- an optional proxy and an optional cookies file per platform (settings);
- a browser User-Agent;
- refusal of private, loopback, link-local, multicast, reserved and cloud-metadata addresses, checked
  on every resolved address (A and AAAA) of every connection, so on every redirect hop, and the socket
  connects to the checked address itself, so DNS cannot change between check and connect (TLS still
  uses the hostname).
"""

from __future__ import annotations

import http.cookiejar
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from functools import cache

import certifi
import httpcore
import httpx
from django.conf import settings

from . import deadline

BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
MAX_REDIRECTS = 10

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")

# The IANA special-purpose address registries (IPv4 and IPv6), plus multicast and the deprecated
# site-local block. We never connect into any of them, not even to the few that are "globally reachable"
# (anycast services such as PCP or AS112: no platform serves media from there). ``is_global`` alone
# misses several on Python 3.11 (192.0.0.192 inside 192.0.0.0/24, fec0::/10, 64:ff9b:1::/48, …).
# The three IPv6 wrappers of IPv4 (mapped, NAT64, 6to4) are unwrapped and the IPv4 inside is checked.
SPECIAL_PURPOSE_V4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
    "255.255.255.255/32", "224.0.0.0/4",  # multicast
))
SPECIAL_PURPOSE_V6 = tuple(ipaddress.IPv6Network(n) for n in (
    "::1/128", "::/128", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64", "2001::/23", "2001:2::/48",
    "2001:3::/32", "2001:4:112::/48", "2001:10::/28", "2001:20::/28", "2001:30::/28", "2001:db8::/32",
    "2620:4f:8000::/48", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10",
    "fec0::/10",  # deprecated site-local
    "ff00::/8",  # multicast
    "::/96",  # deprecated IPv4-compatible addresses
))


class BlockedAddress(httpx.ConnectError):
    """The destination resolves to an address we never connect to."""


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses outside every special-purpose block, looking
    inside IPv6 wrappers of IPv4 (mapped, NAT64, 6to4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(str(ip.ipv4_mapped))
        if ip in _NAT64:
            return is_public_address(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if ip in _SIX_TO_FOUR:
            return is_public_address(str(ip.sixtofour))
        if any(ip in net for net in SPECIAL_PURPOSE_V6):
            return False
    elif any(ip in net for net in SPECIAL_PURPOSE_V4):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_unspecified)


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.EASYDOWN_OUTBOUND_ALLOW_NETWORKS]


def is_allowed_address(address: str) -> bool:
    """A public address, or one inside a network the operator trusts (EASYDOWN_OUTBOUND_ALLOW_NETWORKS: a
    test origin on loopback, a host the operator runs; proxies need no entry). Nothing else private is
    ever reached."""
    if is_public_address(address):
        return True
    networks = _allowed_networks()
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


def resolve_public(host: str, port: int) -> list[str]:
    """Every address of ``host``; raises BlockedAddress unless all of them are public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses or not all(is_allowed_address(a) for a in addresses):
        raise BlockedAddress(f"refusing to connect to {host}: not a public address")
    return addresses


class DeadlineBackend(httpcore.SyncBackend):
    """A network backend whose connections belong to the current parse's deadline (parsing.deadline)."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        stream = super().connect_tcp(host, port, deadline.clip(timeout), local_address, socket_options)
        deadline.track(stream.get_extra_info("socket"))
        return stream


class PublicOnlyBackend(DeadlineBackend):
    """A network backend that checks every connection's addresses and connects to a checked one."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in resolve_public(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise httpcore.ConnectError(str(last_error))


class PolicyTransport(httpx.HTTPTransport):
    """httpx's transport with the public-only network backend (and TLS against the hostname)."""

    def __init__(self, *, proxy: str | None = None) -> None:
        super().__init__(verify=_ssl_context(), proxy=proxy, trust_env=False, retries=0)
        if proxy is None:
            # Direct connections: swap in the checking backend. Through a proxy the proxy connects,
            # so the target host is checked before each request is sent (see _check_destination).
            self._pool = httpcore.ConnectionPool(ssl_context=_ssl_context(), max_connections=20,
                                                 network_backend=PublicOnlyBackend())
        else:
            self._pool._network_backend = DeadlineBackend()


@cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def _check_destination(proxied: bool):
    """A request hook (httpx runs it for every hop, redirects included) enforcing scheme and address, and
    cutting the hop's timeouts to what is left of the parse's deadline."""

    def check(request: httpx.Request) -> None:
        if deadline.current() is not None:
            request.extensions["timeout"] = {
                name: deadline.clip(value) for name, value in request.extensions.get("timeout", {}).items()}
        if request.url.scheme not in ("http", "https"):
            raise BlockedAddress(f"refusing scheme {request.url.scheme}")
        if proxied:
            # Through a proxy the proxy connects; check the target before the request leaves.
            resolve_public(request.url.host, request.url.port or (443 if request.url.scheme == "https" else 80))

    return check


def load_cookies(platform: str) -> http.cookiejar.CookieJar:
    """A fresh jar with the operator's cookies for the platform (Netscape cookies.txt), if any."""
    jar: http.cookiejar.CookieJar = http.cookiejar.CookieJar()
    path = settings.EASYDOWN_COOKIES.get(platform)
    if path:
        file_jar = http.cookiejar.MozillaCookieJar(path)
        file_jar.load(ignore_discard=True, ignore_expires=True)
        for cookie in file_jar:
            jar.set_cookie(cookie)
    return jar


def proxy_for(platform: str) -> str | None:
    return settings.EASYDOWN_PROXIES.get(platform) or None


def timeout() -> httpx.Timeout:
    return httpx.Timeout(settings.EASYDOWN_READ_TIMEOUT, connect=settings.EASYDOWN_CONNECT_TIMEOUT)


def http_client(platform: str, *, mobile: bool = False, headers: dict[str, str] | None = None,
                follow_redirects: bool = True) -> httpx.Client:
    """A client for one extraction on ``platform``: policy transport, its proxy and cookies, a fresh jar.

    Use as a context manager; it is cheap (the TLS context is shared).
    """
    proxy = proxy_for(platform)
    return httpx.Client(
        transport=PolicyTransport(proxy=proxy),
        event_hooks={"request": [_check_destination(proxy is not None)]},
        timeout=timeout(),
        follow_redirects=follow_redirects,
        max_redirects=MAX_REDIRECTS,
        cookies=load_cookies(platform),
        headers={"User-Agent": MOBILE_UA if mobile else BROWSER_UA, "Accept-Language": "en-US,en;q=0.9,zh-CN;q=0.8",
                 **(headers or {})},
    )
