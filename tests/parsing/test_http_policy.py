"""The outbound policy refuses internal addresses on every hop; real sockets on loopback, no internet."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
import respx

from parsing import http as policy


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True),
    ("2606:4700:4700::1111", True),
    ("127.0.0.1", False),
    ("10.1.2.3", False),
    ("172.16.0.1", False),
    ("192.168.1.1", False),
    ("169.254.169.254", False),  # cloud metadata
    ("100.64.0.1", False),  # carrier-grade NAT
    ("0.0.0.0", False),
    ("224.0.0.1", False),
    ("::1", False),
    ("fe80::1", False),
    ("fd00:ec2::254", False),  # AWS metadata over IPv6
    ("::ffff:127.0.0.1", False),
    ("64:ff9b::7f00:1", False),  # NAT64 wrapping 127.0.0.1
    ("64:ff9b::808:808", True),  # NAT64 wrapping 8.8.8.8
    ("2002:7f00:1::", False),  # 6to4 wrapping 127.0.0.1
    ("2002:a00:1::", False),  # 6to4 wrapping 10.0.0.1
    ("ff02::1", False),
    ("not-an-ip", False),
    ("192.0.0.192", False),  # inside 192.0.0.0/24, which is_global passes on Python 3.11
    ("fec0::1", False),  # deprecated site-local, likewise
    ("64:ff9b:1::a00:1", False),  # local-use NAT64 prefix
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
    ("::a00:1", False),  # deprecated IPv4-compatible form of 10.0.0.1
    ("1.1.1.1", True),
    ("2a00:1450:4001:80b::200e", True),
])
def test_public_address_classification(address, public):
    assert policy.is_public_address(address) is public


# The IANA IPv4 and IPv6 special-purpose address registries (as of 2025), written out here independently
# of the policy's own table, plus multicast and site-local.
IANA_SPECIAL_PURPOSE = [
    "0.0.0.0/8", "0.0.0.0/32", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.0.0/29", "192.0.0.8/32", "192.0.0.9/32", "192.0.0.10/32", "192.0.0.170/32",
    "192.0.0.171/32", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.88.99.2/32",
    "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
    "255.255.255.255/32", "224.0.0.0/4",
    "::1/128", "::/128", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64", "2001::/23", "2001::/32",
    "2001:1::1/128", "2001:1::2/128", "2001:1::3/128", "2001:2::/48", "2001:3::/32", "2001:4:112::/48",
    "2001:10::/28", "2001:20::/28", "2001:30::/28", "2001:db8::/32", "2620:4f:8000::/48", "3fff::/20",
    "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
]


@pytest.mark.parametrize("block", IANA_SPECIAL_PURPOSE)
def test_every_special_purpose_block_is_refused(block):
    import ipaddress

    net = ipaddress.ip_network(block)
    for address in (net[0], net[net.num_addresses // 2], net[-1]):
        assert not policy.is_public_address(str(address)), address


@pytest.mark.parametrize("wrapped, public", [("10.0.0.1", False), ("192.0.0.192", False), ("8.8.8.8", True)])
def test_ipv6_wrappers_are_judged_by_the_ipv4_inside(wrapped, public):
    import ipaddress

    v4 = int(ipaddress.IPv4Address(wrapped))
    for address in (ipaddress.IPv6Address((0xFFFF << 32) | v4),  # ::ffff:a.b.c.d
                    ipaddress.IPv6Address((0x64FF9B << 96) | v4),  # 64:ff9b::a.b.c.d
                    ipaddress.IPv6Address((0x2002 << 112) | (v4 << 80))):  # 2002:aabb:ccdd::
        assert policy.is_public_address(str(address)) is public, address


@pytest.fixture
def local_server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"internal secret")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_loopback_server_is_never_contacted(local_server):
    with policy.http_client("tiktok") as client, pytest.raises(policy.BlockedAddress):
        client.get(f"http://127.0.0.1:{local_server}/")
    with policy.http_client("tiktok") as client, pytest.raises(policy.BlockedAddress):
        client.get(f"http://localhost:{local_server}/")


def test_a_redirect_to_an_internal_address_is_refused(local_server, monkeypatch):
    """The first hop is public (served by the mock); the redirect's target is re-checked and refused."""
    calls = []
    real = policy.PublicOnlyBackend.connect_tcp

    def tracking(self, host, port, *args, **kwargs):
        calls.append(host)
        return real(self, host, port, *args, **kwargs)

    monkeypatch.setattr(policy.PublicOnlyBackend, "connect_tcp", tracking)
    with respx.mock(assert_all_mocked=False) as mock:
        mock.get("https://vm.tiktok.com/ZMabc/").respond(302, headers={"Location": f"http://127.0.0.1:{local_server}/"})
        mock.route(host="127.0.0.1").pass_through()
        with policy.http_client("tiktok") as client, pytest.raises(policy.BlockedAddress):
            client.get("https://vm.tiktok.com/ZMabc/")
    assert calls == ["127.0.0.1"]


def test_non_http_schemes_are_refused():
    with policy.http_client("tiktok") as client, pytest.raises((policy.BlockedAddress, httpx.UnsupportedProtocol)):
        client.get("file:///etc/passwd")


def test_client_sends_a_browser_user_agent_and_operator_cookies(tmp_path, settings):
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n.instagram.com\tTRUE\t/\tTRUE\t2145916800\tsessionid\tabc123\n")
    settings.EASYDOWN_COOKIES = {"instagram": str(cookies)}
    with respx.mock() as mock:
        route = mock.get("https://www.instagram.com/p/abc/").respond(200, text="ok")
        with policy.http_client("instagram") as client:
            client.get("https://www.instagram.com/p/abc/")
    sent = route.calls.last.request
    assert "Mozilla/5.0" in sent.headers["User-Agent"]
    assert "sessionid=abc123" in sent.headers["Cookie"]


def test_through_a_proxy_every_hop_is_checked_before_it_is_sent(settings, local_server):
    """The proxy (a local server here) would connect for us, so the target is checked first, on each hop."""
    settings.EASYDOWN_PROXIES = {"tiktok": f"http://127.0.0.1:{local_server}"}
    with policy.http_client("tiktok") as client, pytest.raises(policy.BlockedAddress):
        client.get("http://localhost/internal")



def test_through_a_proxy_a_redirect_to_an_internal_address_is_refused(settings, monkeypatch):
    settings.EASYDOWN_PROXIES = {"tiktok": "http://proxy.invalid:3128"}
    real = policy.socket.getaddrinfo

    def fake_dns(host, *args, **kwargs):  # the one public name this offline test needs
        if host == "www.tiktok.com":
            return [(policy.socket.AF_INET, policy.socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(policy.socket, "getaddrinfo", fake_dns)
    with respx.mock(assert_all_called=False) as mock:
        first = mock.get("https://www.tiktok.com/@a/video/1").respond(302, headers={"Location": "http://127.0.0.1/x"})
        internal = mock.get("http://127.0.0.1/x").respond(200)
        with policy.http_client("tiktok") as client, pytest.raises(policy.BlockedAddress):
            client.get("https://www.tiktok.com/@a/video/1")
    assert first.called and not internal.called
