"""The media tunnel, against its own live stack (uvicorn, a real worker) and a CDN stand-in on loopback
(tests/support/origin.py) that insists on the platform's Referer and User-Agent. Loopback is allowed to
this stack only (EASYDOWN_OUTBOUND_ALLOW_NETWORKS=127.0.0.1/32: 127.0.0.2 stays private)."""

from __future__ import annotations

import json
import re
import subprocess
import time

import httpx
import pytest

from parsing import remux, tunnel
from tests.conftest import ARTIFACTS
from tests.factories import make_key
from tests.parsing.test_parse_api import YT, vid
from tests.support import extractors as scripted
from tests.support.origin import REFERER, Origin, content
from tests.support.stack import METRICS_TOKEN, start_stack

HEADERS = {"User-Agent": "Mozilla/5.0 (X11) Test", "Referer": REFERER}
SIZE = 3 * 1024 * 1024 + 17


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """A 3-second video without sound and a 3-second audio track, each a fragmented MP4 as DASH serves."""
    folder = tmp_path_factory.mktemp("media")
    ffmpeg = remux.ffmpeg_path()
    frag = ["-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4"]
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=3:size=320x240:rate=25",
                    "-c:v", "mpeg4", "-g", "25", *frag, str(folder / "video.mp4")], check=True)
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac",
                    *frag, str(folder / "audio.m4a")], check=True)
    return folder


@pytest.fixture(scope="module")
def origin(media):
    with Origin(media_dir=media) as server:
        yield server


@pytest.fixture(scope="module")
def private_origin():
    with Origin(host="127.0.0.2") as server:
        yield server


@pytest.fixture(scope="module")
def tstack(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        live = start_stack(ARTIFACTS / "tunnel-stack", web_workers=1,
                           EASYDOWN_OUTBOUND_ALLOW_NETWORKS="127.0.0.1/32",
                           EASYDOWN_MEDIA_HOSTS=json.dumps({"youtube": ["127.0.0.1", "127.0.0.2"]}),
                           EASYDOWN_TUNNEL_STREAMS_PER_KEY="2", EASYDOWN_READ_TIMEOUT="2",
                           EASYDOWN_PUBLIC_URL="https://media.example.test")
    yield live
    live.stop()


def link(stack, url: str, *, expires_in: float = 600, key: str = "k1", **extra) -> str:
    claims = {"u": url, "p": "youtube", "h": HEADERS, "k": key, "x": time.time() + expires_in, "n": "My clip.mp4",
              **extra}
    return f"{stack.base_url}{tunnel.PATH_PREFIX}{tunnel.sign(claims)}"


def get(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, timeout=20, **kwargs)


def test_a_full_download_carries_the_cdn_headers_and_none_of_its_cookies(tstack, origin):
    response = get(link(tstack, f"{origin.base}/file/{SIZE}"))
    assert response.status_code == 200
    assert response.content == content(0, SIZE - 1)
    assert response.headers["content-length"] == str(SIZE) and response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes" and response.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in response.headers and "content-disposition" not in response.headers
    seen = origin.requests[-1]["headers"]
    assert seen["Referer"] == REFERER and seen["User-Agent"] == HEADERS["User-Agent"]
    # Counted for the operator (GET /metrics).
    scraped = httpx.get(f"{tstack.base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    sent = re.search(r'^easydown_tunnel_bytes_total\{platform="youtube"\} ([0-9.e+]+)$', scraped, re.M)
    assert sent and float(sent.group(1)) >= SIZE


def test_byte_ranges_resume_and_416(tstack, origin):
    url = link(tstack, f"{origin.base}/file/{SIZE}")
    part = get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == content(100, 199)
    assert part.headers["content-range"] == f"bytes 100-199/{SIZE}"
    rest = get(url, headers={"Range": f"bytes={SIZE - 1000}-", "If-Range": '"v1"'})
    assert rest.status_code == 206 and rest.content == content(SIZE - 1000, SIZE - 1)
    assert origin.requests[-1]["headers"]["If-Range"] == '"v1"'
    assert get(url, headers={"Range": f"bytes={SIZE + 10}-"}).status_code == 416
    # Several ranges are not forwarded: the whole file, as HTTP allows.
    whole = get(url, headers={"Range": "bytes=0-1,5-9"})
    assert whole.status_code == 200 and len(whole.content) == SIZE and "Range" not in origin.requests[-1]["headers"]


def test_head_and_download_names(tstack, origin):
    url = link(tstack, f"{origin.base}/file/{SIZE}", n="视频 clip.mp4")
    head = httpx.head(url, timeout=20)
    assert head.status_code == 200 and head.headers["content-length"] == str(SIZE) and head.content == b""
    assert origin.requests[-1]["method"] == "HEAD"
    download = httpx.head(url + "?download=1", timeout=20)
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"clip.mp4\"; filename*=UTF-8''%E8%A7%86%E9%A2%91%20clip.mp4")


def test_tampered_and_expired_tokens(tstack, origin):
    url = link(tstack, f"{origin.base}/file/{SIZE}")
    token = url.rsplit("/", 1)[1]
    tampered = url[: -len(token)] + token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    answer = get(tampered)
    assert answer.status_code == 403 and answer.json()["code"] == "invalid_signature"
    assert get(url + "x").status_code == 403
    expired = get(link(tstack, f"{origin.base}/file/{SIZE}", expires_in=-1))
    assert expired.status_code == 410 and expired.json()["code"] == "media_expired"
    assert httpx.post(url, timeout=10).status_code == 405


def test_an_expired_cdn_url_is_410_and_a_dead_one_504(tstack, origin):
    answer = get(link(tstack, f"{origin.base}/expired"))
    assert answer.status_code == 410 and answer.json()["code"] == "media_expired"
    started = time.monotonic()
    answer = get(link(tstack, f"{origin.base}/hang"))
    assert answer.status_code == 504 and answer.json()["code"] == "upstream_timeout"
    assert time.monotonic() - started < 10  # EASYDOWN_READ_TIMEOUT is 2 s on this stack


def test_a_client_that_leaves_closes_the_upstream_connection(tstack, origin):
    origin.closed_early.clear()
    with httpx.stream("GET", link(tstack, f"{origin.base}/slow/{50 * 1024 * 1024}"), timeout=20) as response:
        assert response.status_code == 200
        next(response.iter_raw(1024))
    # The stand-in notices within a few of its 0.2 s writes that nobody reads any more.
    assert origin.closed_early.wait(10)


def test_hosts_off_the_list_private_addresses_and_long_redirect_chains_are_refused(tstack, origin, private_origin):
    # localhost is loopback and allowed as a network here, but not a media host of YouTube.
    port = origin.server_address[1]
    answer = get(link(tstack, f"http://localhost:{port}/file/10"))
    assert answer.status_code == 502 and answer.json()["code"] == "upstream_error"
    # A redirect from the CDN to a private address on the list of hosts: refused at the address check.
    before = len(private_origin.requests)
    to_private = f"{private_origin.base}/file/10"
    answer = get(link(tstack, f"{origin.base}/redirect/1?to={to_private}"))
    assert answer.status_code == 502 and len(private_origin.requests) == before
    # Five hops are followed; a sixth is not.
    assert get(link(tstack, f"{origin.base}/redirect/5?to=/file/10")).content == content(0, 9)
    assert get(link(tstack, f"{origin.base}/redirect/6?to=/file/10")).status_code == 502


def test_concurrent_streams_per_key_are_limited(tstack, origin):
    url = link(tstack, f"{origin.base}/slow/{50 * 1024 * 1024}", key="busy")
    with httpx.stream("GET", url, timeout=20) as first, httpx.stream("GET", url, timeout=20) as second:
        assert first.status_code == second.status_code == 200
        third = get(url)
        assert third.status_code == 429 and third.json()["code"] == "rate_limited" and "retry-after" in third.headers
        assert get(link(tstack, f"{origin.base}/file/10", key="other")).status_code == 200
    # Their slots are given back when they end.
    for _ in range(50):
        if get(link(tstack, f"{origin.base}/file/10", key="busy")).status_code == 200:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the key's slots were not given back")


def _streams(path) -> tuple[list[str], float]:
    out = subprocess.run([remux.ffmpeg_path(), "-hide_banner", "-i", str(path), "-f", "null", "-"],
                         capture_output=True, text=True)
    kinds = re.findall(r"Stream #0:\d.*?: (Video|Audio):", out.stderr.split("Output #0")[0])  # the input's
    times = re.findall(r"time=(\d+):(\d+):([\d.]+)", out.stderr)
    h, m, s = times[-1]
    return kinds, int(h) * 3600 + int(m) * 60 + float(s)


def test_split_dash_video_and_audio_download_as_one_file(tstack, origin, tmp_path):
    url = link(tstack, f"{origin.base}/media/video.mp4", a=f"{origin.base}/media/audio.m4a", ah=HEADERS)
    head = httpx.head(url, timeout=20)
    assert head.status_code == 200 and head.headers["content-type"] == "video/mp4"
    response = get(url + "?download=1")
    assert response.status_code == 200 and response.headers["accept-ranges"] == "none"
    assert "attachment" in response.headers["content-disposition"]
    merged = tmp_path / "merged.mp4"
    merged.write_bytes(response.content)
    kinds, duration = _streams(merged)
    assert sorted(kinds) == ["Audio", "Video"] and 2.8 <= duration <= 3.2
    # An expired half is the same 410 as a single file's.
    broken = get(link(tstack, f"{origin.base}/media/video.mp4", a=f"{origin.base}/expired", ah=HEADERS))
    assert broken.status_code == 410


@pytest.mark.django_db(transaction=True)
def test_parse_results_carry_tunnels_issued_to_the_key(tstack, origin):
    key, token = make_key(credits=2)
    media = vid("tun1")
    scripted.script(media, "split", video=f"{origin.base}/media/video.mp4", audio=f"{origin.base}/media/audio.m4a")
    answer = httpx.post(f"{tstack.base_url}/api/v1/parse", headers={"Authorization": f"Bearer {token}"},
                        json={"url": YT.format(media)}, timeout=30)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    video, audio = data["videos"][0], data["audios"][0]
    for item in (video, audio, data):
        url = item.get("tunnel") or item["thumbnailTunnel"]
        assert url.startswith("https://media.example.test/api/v1/media/")
        claims = tunnel.read_token(url.rsplit("/", 1)[1])
        assert claims["k"] == key.public_id.hex and claims["p"] == "youtube"
    assert tunnel.read_token(video["tunnel"].rsplit("/", 1)[1])["u"] == video["url"]
    merged = tunnel.read_token(video["mergedTunnel"].rsplit("/", 1)[1])
    assert merged["u"] == video["url"] and merged["a"] == audio["url"]
    # The tunnel link works as given (with this stack's address in place of the public one).
    local = audio["tunnel"].replace("https://media.example.test", tstack.base_url)
    assert get(local).content == (origin.media_dir / "audio.m4a").read_bytes()
