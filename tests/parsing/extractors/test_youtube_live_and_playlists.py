"""YouTube /live and /collection through yt-dlp's real YouTube extractors, replaying recorded-shaped pages.

/live: the watch page of a stream (its ``ytInitialPlayerResponse`` says ``videoDetails.isLive`` and gives
``streamingData.hlsManifestUrl``), then the HLS master playlist that URL names. The tests pin yt-dlp's "web"
client (one of its defaults when a JavaScript runtime is present): it reads its player response from the
watch page itself, so no player API call is made, and a manifest URL without an ``/n/`` challenge needs no
player JavaScript. Nothing else is fetched.

/collection: the playlist page (``ytInitialData`` with a ``playlistVideoListRenderer`` of the first 100
videos and a continuation), the ``browse`` call yt-dlp makes to reload the list with unavailable videos (it
answers the page's own data), and the ``browse`` continuation for videos past the first 100.
"""

from __future__ import annotations

import json
import re

import pytest
from yt_dlp.networking.exceptions import TransportError

from parsing.extractors.base import ContentUnavailable, UpstreamTimeout
from parsing.extractors.headers import download_headers
from parsing.extractors.youtube import YouTubeExtractor
from parsing.extractors.ytdlp import warm_ydl
from parsing.recognition import recognize
from tests.support.ytdlp_replay import FIXTURES, replay

STREAM = "Lv7kQ3pNa2E"
WATCH = f"https://www.youtube.com/watch?v={STREAM}*"
MASTER = "https://manifest.googlevideo.com/api/manifest/hls_variant/*"
PLAYLIST = "PLs3xRm7Qk2VfB9aT4nLcW8pYd1HjE5uGz"
PAGE = f"https://www.youtube.com/playlist?list={PLAYLIST}*"
BROWSE = "POST https://www.youtube.com/youtubei/v1/browse*"


def _page_data() -> dict:
    """The playlist page's ytInitialData."""
    page = (FIXTURES / "youtube/playlist_page.html").read_text(encoding="utf-8")
    return json.loads(page.split("var ytInitialData = ", 1)[1].split(";</script>", 1)[0])


_LIST = _page_data()["contents"]["twoColumnBrowseResultsRenderer"]["tabs"][0]["tabRenderer"]["content"][
    "sectionListRenderer"]["contents"][0]["itemSectionRenderer"]["contents"][0]["playlistVideoListRenderer"]
CONTINUATION_TOKEN = _LIST["contents"][-1]["continuationItemRenderer"]["continuationEndpoint"][
    "continuationCommand"]["token"]


@pytest.fixture(autouse=True)
def web_client(monkeypatch):
    monkeypatch.setattr(YouTubeExtractor, "extractor_args", {"youtube": {"player_client": ["web"]}})


def live(link: str = f"https://www.youtube.com/watch?v={STREAM}"):
    return YouTubeExtractor().live(recognize(link, "live"))


def test_a_live_stream_lists_the_hls_variants_of_its_master_playlist_best_first():
    with replay({WATCH: "youtube/watch_live.html", MASTER: "youtube/live_master.m3u8"}) as calls:
        data = live(f"https://youtu.be/{STREAM}?si=share").to_dict()
    assert [(c.method, c.url.split("?")[0]) for c in calls] == [  # no player API call, no player JavaScript
        ("GET", "https://www.youtube.com/watch"), ("GET", MASTER[:-1] + calls[1].url.split("/hls_variant/")[1])]
    assert f"/id/{STREAM}.1/source/yt_live_broadcast/" in calls[1].url and calls[1].url.endswith("/file/index.m3u8")
    assert (data["platform"], data["id"]) == ("youtube", STREAM)
    assert data["url"] == f"https://www.youtube.com/watch?v={STREAM}"
    assert data["title"] == "Harbour cam: ships arriving at dawn"  # without the time yt-dlp appends to live titles
    assert data["author"] == {"name": "Pier Seven Webcams", "id": "@pierseven",
                              "url": "https://www.youtube.com/@pierseven"}
    assert data["thumbnail"] == f"https://i.ytimg.com/vi/{STREAM}/maxresdefault_live.jpg"
    assert [(s["format"], s["quality"], re.search(r"/itag/(\d+)/", s["url"])[1]) for s in data["streams"]] == [
        ("hls", "1080p", "301"), ("hls", "720p", "95"), ("hls", "360p", "93"), ("hls", "144p", "91")]
    # The variant playlists; the live DASH parts of the player response are not streams.
    assert all(s["url"].startswith("https://manifest.googlevideo.com/api/manifest/hls_playlist/") and
               s["url"].endswith("/playlist/index.m3u8") for s in data["streams"])
    headers = data["streams"][0]["headers"]
    assert headers["Origin"] == "https://www.youtube.com"
    assert headers["Referer"] == download_headers("youtube")["Referer"]


def test_a_channels_live_page_leads_to_its_current_stream():
    with replay({"https://www.youtube.com/@pierseven/live": "youtube/watch_live.html", WATCH: "youtube/watch_live.html",
                 MASTER: "youtube/live_master.m3u8"}) as calls:
        data = live("https://www.youtube.com/@pierseven/live").to_dict()
    assert calls[0].url == "https://www.youtube.com/@pierseven/live" and calls[1].url.startswith(WATCH[:-1])
    assert data["id"] == STREAM and len(data["streams"]) == 4


@pytest.mark.parametrize("page", ["youtube/watch_upcoming.html", "youtube/watch_was_live.html"])
def test_a_stream_that_is_upcoming_or_has_ended_is_offline(page):
    with replay({WATCH: page}) as calls, pytest.raises(ContentUnavailable) as caught:
        live()
    assert caught.value.reason == "offline" and len(calls) == 1  # no manifest is asked for


def test_parse_answers_a_stream_that_is_live_now_as_live():
    with replay({WATCH: "youtube/watch_live.html", MASTER: "youtube/live_master.m3u8"}), \
            pytest.raises(ContentUnavailable) as caught:
        YouTubeExtractor().extract(recognize(f"https://www.youtube.com/live/{STREAM}"))
    assert caught.value.reason == "live"


TIMEOUT = TransportError("timed out", cause=TimeoutError())


def test_a_live_page_that_times_out_is_an_upstream_timeout():
    # yt-dlp falls back from the page to the API (next, player): YouTube answers none of them.
    with replay({"https://www.youtube.com/*": TIMEOUT}), pytest.raises(UpstreamTimeout):
        live()


# --- playlists -------------------------------------------------------------------------------------------


def _browse(call):
    """The browse endpoint: a reload of the list by its browse id (YouTube answers the page's data), or the
    continuation the page names (the videos past the first 100)."""
    body = json.loads(call.data)
    if body.get("browseId") == f"VL{PLAYLIST}":
        return _page_data()
    if body.get("continuation") == CONTINUATION_TOKEN:
        return "youtube/playlist_continuation.json"
    return (b'{"error": {"code": 400, "status": "INVALID_ARGUMENT"}}', 400, {})


def collection(page: int, link: str = f"https://www.youtube.com/playlist?list={PLAYLIST}&si=share"):
    with replay({PAGE: "youtube/playlist_page.html", BROWSE: _browse}) as calls:
        data = YouTubeExtractor().collection(recognize(link, "collection"), page).to_dict()
    return data, calls


def test_a_playlist_page_lists_its_videos_flat_with_links_parse_accepts():
    data, calls = collection(1, f"https://www.youtube.com/watch?v=jMHSGGAq_UI&list={PLAYLIST}&index=3")
    assert [(c.method, c.url.split("?")[0]) for c in calls] == [
        ("GET", "https://www.youtube.com/playlist"), ("POST", "https://www.youtube.com/youtubei/v1/browse")]
    assert json.loads(calls[1].data)["params"] == "wgYCCAA="  # the reload with unavailable videos; no continuation
    assert (data["platform"], data["id"], data["url"]) == (
        "youtube", PLAYLIST, f"https://www.youtube.com/playlist?list={PLAYLIST}")
    assert data["title"] == "Introduction to Ship Design (Fall 2024)"
    assert data["author"] == {"name": "Harbour Lectures", "id": "@harbourlectures",
                              "url": "https://www.youtube.com/@harbourlectures"}
    assert (data["total"], data["page"], data["nextPage"], len(data["items"])) == (120, 1, 2, 50)
    assert data["items"][0] == {
        "index": 1, "id": "jMHSGGAq_UI", "title": "Lecture 1: Hull forms",
        "url": "https://www.youtube.com/watch?v=jMHSGGAq_UI", "duration": 2777,
        "thumbnail": "https://i.ytimg.com/vi/jMHSGGAq_UI/hqdefault.jpg?sqp=-oaymwEcCNACELwBSFXyq4qpAw4IARUAAIhCGAFwAcABBg=="
                     "&rs=AOn4CLF0001x"}
    assert [item["index"] for item in data["items"]] == list(range(1, 51))
    assert data["items"][49]["title"] == "Lecture 50: Cost estimation" and data["items"][49]["duration"] == 3250
    assert all(recognize(item["url"]).supported and recognize(item["url"]).id == item["id"] for item in data["items"])
    assert len({item["id"] for item in data["items"]}) == 50


def test_the_second_page_follows_the_continuation_for_its_look_ahead_video():
    data, calls = collection(2)
    assert [json.loads(c.data).get("continuation") for c in calls if c.method == "POST"] == [None, CONTINUATION_TOKEN]
    assert (data["total"], data["page"], data["nextPage"]) == (120, 2, 3)
    assert [item["index"] for item in data["items"]] == list(range(51, 101))
    assert data["items"][0]["title"] == "Lecture 51: Hull forms"
    assert "playlist_items" not in warm_ydl("youtube").params  # per-call params do not outlive the call


def test_the_last_page_holds_the_videos_of_the_continuation():
    data, calls = collection(3)
    assert (data["total"], data["page"], data["nextPage"]) == (120, 3, None)
    assert [item["index"] for item in data["items"]] == list(range(101, 121))
    assert data["items"][-1]["id"] == "RYql_LepyD8"
    assert data["items"][-1]["title"] == "Lecture 120: Cost estimation (part 2)"


def test_a_page_past_the_end_is_no_such_page():
    with pytest.raises(ContentUnavailable) as caught:
        collection(4)
    assert caught.value.reason == "no_such_page"


@pytest.mark.parametrize("page, reason", [("youtube/playlist_missing.html", "deleted"),
                                          ("youtube/playlist_private.html", "private")])
def test_a_playlist_youtube_will_not_list_says_why(page, reason):
    with replay({PAGE: page}) as calls, pytest.raises(ContentUnavailable) as caught:
        YouTubeExtractor().collection(recognize(f"https://www.youtube.com/playlist?list={PLAYLIST}", "collection"), 1)
    assert caught.value.reason == reason and [c.method for c in calls] == ["GET"]


def test_a_playlist_page_that_times_out_is_an_upstream_timeout():
    # yt-dlp falls back from the page to the API (navigation/resolve_url): YouTube answers neither.
    with replay({"https://www.youtube.com/*": TIMEOUT}), pytest.raises(UpstreamTimeout):
        YouTubeExtractor().collection(recognize(f"https://www.youtube.com/playlist?list={PLAYLIST}", "collection"), 1)
