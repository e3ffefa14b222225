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
])
def test_public_address_classification(address, public):
    assert policy.is_public_address(address) is public


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
