"""YouTube through the real yt-dlp extractor, replaying recorded innertube player responses.

Offline there is no JavaScript challenge to solve, so the tests pin the JS-less "visionos" client (one of
yt-dlp's default clients): its player response carries direct format URLs.
"""

from __future__ import annotations

import json

import pytest

from parsing.extractors.base import ContentUnavailable, UpstreamFailure
from parsing.extractors.headers import download_headers
from parsing.extractors.youtube import YouTubeExtractor
from parsing.recognition import recognize
from tests.support.ytdlp_replay import replay

VIDEO_ID = "Xk9mQ2vTe4A"
NEXT = "POST https://www.youtube.com/youtubei/v1/next*"
PLAYER = "POST https://www.youtube.com/youtubei/v1/player*"


@pytest.fixture(autouse=True)
def offline_client(monkeypatch):
    monkeypatch.setattr(YouTubeExtractor, "extractor_args", {
        "youtube": {"player_client": ["visionos"], "player_skip": ["webpage", "configs", "js"]}})


def extract(link: str, player: str = "youtube/player_ok.json"):
    with replay({NEXT: "youtube/next.json", PLAYER: player}) as calls:
        result = YouTubeExtractor().extract(recognize(link))
    return result, calls


def test_a_video_gives_split_dash_streams_best_first_and_the_muxed_file():
    result, calls = extract(f"https://www.youtube.com/watch?v={VIDEO_ID}&t=42s")
    data = result.to_dict()
    assert (data["platform"], data["id"], data["url"]) == (
        "youtube", VIDEO_ID, f"https://www.youtube.com/watch?v={VIDEO_ID}")
    assert data["title"] == "How a Mechanical Watch Works (in 4 minutes)"
    assert data["duration"] == 245 and data["images"] == []
    assert data["thumbnail"] == f"https://i.ytimg.com/vi/{VIDEO_ID}/maxresdefault.jpg"
    assert data["author"] == {"name": "Tick Tock Lab", "id": "@ticktocklab", "url": "https://www.youtube.com/@ticktocklab"}
    videos = [(v["quality"], v["mimeType"], v["hasAudio"], v["source"]) for v in data["videos"]]
    assert videos == [("1080p", "video/mp4", False, "dash"), ("1080p", "video/webm", False, "dash"),
                      ("720p", "video/mp4", False, "dash"), ("480p", "video/mp4", False, "dash"),
                      ("360p", "video/mp4", True, "direct")]
    assert [(a["mimeType"], a["source"]) for a in data["audios"]] == [("audio/webm", "dash"), ("audio/mp4", "dash")]
    assert all(item["url"].startswith("https://rr4---sn-4g5lznle.googlevideo.com/videoplayback?")
               for item in data["videos"] + data["audios"])
    headers = data["videos"][0]["headers"]
    assert headers["Origin"] == "https://www.youtube.com"
    assert headers["Referer"] == download_headers("youtube")["Referer"]
    player_call = next(c for c in calls if "/player" in c.url)
    assert json.loads(player_call.data)["videoId"] == VIDEO_ID


@pytest.mark.parametrize("link", [
    f"https://youtu.be/{VIDEO_ID}?si=share",
    f"https://www.youtube.com/shorts/{VIDEO_ID}",
    f"https://m.youtube.com/watch?v={VIDEO_ID}&feature=share",
    f"https://www.youtube.com/live/{VIDEO_ID}",
    f"https://www.youtube.com/embed/{VIDEO_ID}",
])
def test_every_link_form_asks_yt_dlp_for_the_canonical_watch_page(link):
    result, calls = extract(link)
    assert result.id == VIDEO_ID and result.videos
    assert all(json.loads(c.data)["videoId"] == VIDEO_ID for c in calls)


@pytest.mark.parametrize("player, reason", [
    ("player_private.json", "private"),
    ("player_removed.json", "deleted"),
    ("player_age.json", "login_required"),
    ("player_region.json", "region_blocked"),
])
def test_unavailable_videos_say_why(player, reason):
    with pytest.raises(ContentUnavailable) as caught:
        extract(f"https://www.youtube.com/watch?v={VIDEO_ID}", f"youtube/{player}")
    assert caught.value.reason == reason


def test_the_bot_check_wall_is_an_upstream_failure_not_a_verdict_on_the_video():
    with pytest.raises(UpstreamFailure):
        extract(f"https://www.youtube.com/watch?v={VIDEO_ID}", "youtube/player_bot.json")

