"""A parse's deadline reaches every connection it opens (parsing.deadline), and concurrent parses share no
yt-dlp instance and no cookies. In-process: the worker's threads do exactly this."""

from __future__ import annotations

import threading
import urllib.request

import httpx
import pytest

from parsing import deadline as deadlines
from parsing.deadline import Deadline, DeadlineExceeded
from parsing.extractors import ytdlp
from parsing.extractors.base import UpstreamTimeout
from parsing.extractors.ytdlp.net import checked_connection
from parsing.http import http_client
from tests.support.origins import Origin


@pytest.fixture
def loopback(settings):
    """Let the outbound policy reach the test origins on loopback (and nothing else private)."""
    settings.EASYDOWN_OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]
    settings.EASYDOWN_READ_TIMEOUT = 60  # far past every deadline below: only the deadline can end a read


@pytest.fixture
def origin(request):
    found = Origin(mode=request.param).start()
    yield found
    found.stop()


@pytest.mark.parametrize("origin", ["drip"], indirect=True)
def test_a_platform_that_trickles_is_cut_off_at_the_deadline(loopback, origin):
    """A byte a second defeats every per-read timeout; the watchdog breaks the connection instead."""
    with pytest.raises(httpx.HTTPError), Deadline(1.5) as deadline, http_client("tiktok") as client:
        client.get(origin.url)
    assert deadline.expired
    assert origin.closed.wait(10), "the connection outlived the deadline"
    assert origin.sent < 10  # of the 120 bytes it would have trickled


@pytest.mark.parametrize("origin", ["silent"], indirect=True)
def test_a_platform_that_never_answers_is_cut_off_at_the_deadline(loopback, origin):
    with pytest.raises((httpx.HTTPError, UpstreamTimeout)), Deadline(1.0) as deadline, \
            http_client("tiktok") as client:
        client.get(origin.url)
    assert deadline.expired and origin.closed.wait(10)


@pytest.mark.parametrize("origin", ["drip"], indirect=True)
def test_yt_dlp_connections_are_cut_off_at_the_deadline(loopback, origin):
    """yt-dlp's urllib handler connects through checked_connection: the same deadline applies."""
    port = int(origin.url.rsplit(":", 1)[1].split("/")[0])
    with Deadline(1.5) as deadline:
        sock = checked_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(b"GET /media HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := sock.recv(4096):  # ends when the watchdog shuts the connection down
            received += chunk
        sock.close()
    assert deadline.expired and origin.closed.wait(10)
    assert received.count(b"x") < 10


def test_nothing_starts_after_the_deadline(loopback):
    with Deadline(0) as deadline:
        with pytest.raises(DeadlineExceeded):
            deadlines.clip(5)
        with pytest.raises(UpstreamTimeout), http_client("tiktok") as client:
            client.get("http://127.0.0.1:9/never")
    assert deadline.expired


def test_a_parse_that_ends_in_time_is_not_expired_later():
    with Deadline(0.2) as deadline:
        assert 0 < deadlines.clip(5) <= 0.2
    threading.Event().wait(0.5)  # the watchdog reaches this deadline after the parse ended
    assert not deadline.expired
    assert deadlines.clip(5) == 5  # outside a parse nothing is cut


def test_outside_a_parse_the_policy_still_refuses_loopback():
    with pytest.raises(httpx.ConnectError), http_client("tiktok") as client:
        client.get("http://127.0.0.1:9/")


# --- yt-dlp instances and cookies under concurrency ---------------------------------------------------


def test_concurrent_parses_never_hold_the_same_instance_or_see_each_others_cookies():
    barrier = threading.Barrier(4, timeout=10)
    seen: dict[int, tuple[int, list[str]]] = {}

    def parse(n: int) -> None:
        with ytdlp.leased_ydl("tiktok") as ydl:
            ytdlp._fresh_cookies(ydl, "tiktok")
            request = urllib.request.Request("https://www.tiktok.com/")
            ydl.cookiejar.set_cookie(_cookie(f"session-{n}"))
            barrier.wait()  # all four parses hold their instance at once
            ydl.cookiejar.add_cookie_header(request)
            seen[n] = (id(ydl), [request.get_header("Cookie")])
            barrier.wait()
            ydl.cookiejar.clear()

    threads = [threading.Thread(target=parse, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({instance for instance, _ in seen.values()}) == 4
    assert all(cookies == [f"sid=session-{n}"] for n, (_, cookies) in seen.items())
    with ytdlp.leased_ydl("tiktok") as ydl:  # instances come back to the pool, emptied
        assert len(ydl.cookiejar) == 0


def test_an_instance_is_reused_once_given_back():
    with ytdlp.leased_ydl("youtube") as first:
        pass
    with ytdlp.leased_ydl("youtube") as second:
        with ytdlp.leased_ydl("youtube") as third:
            assert third is not second
    assert second is first


def _cookie(value: str):
    from http.cookiejar import Cookie

    return Cookie(0, "sid", value, None, False, ".tiktok.com", True, True, "/", True, True, 2147483647, False,
                  None, None, {})
