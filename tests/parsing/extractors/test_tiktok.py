"""TikTok: videos through the real yt-dlp extractor (replayed, impersonated page fetch), photo posts
through our own page reading (respx), short links through the real resolve()."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from parsing.expansion import resolve
from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.tiktok import TikTokExtractor
from parsing.recognition import recognize
from tests.support.ytdlp_replay import replay

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tiktok"
VIDEO_ID, PHOTO_ID = "7301234567890123456", "7309876543210987654"
VIDEO_PAGE = f"https://www.tiktok.com/@sunny.kitchen/video/{VIDEO_ID}"
PHOTO_PAGE = f"https://www.tiktok.com/@market.days/video/{PHOTO_ID}"
CHAIN = {"Set-Cookie": "tt_chain_token=chain123; Domain=.tiktok.com; Path=/; Secure"}


def html(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_a_video_has_its_renditions_best_first_and_its_music():
    with replay({f"{VIDEO_PAGE}*": ("tiktok/video_page.html", 200, CHAIN)}) as calls:
        data = TikTokExtractor().extract(recognize(f"{VIDEO_PAGE}?is_from_webapp=1&sender_device=pc")).to_dict()
    assert calls[0].url == VIDEO_PAGE and calls[0].impersonate  # the page fetch is impersonated (curl_cffi)
    assert (data["id"], data["duration"], data["images"]) == (VIDEO_ID, 34, [])
    assert data["title"].startswith("Three-minute garlic noodles") and data["title"].endswith("#dinner")  # all of it
    assert data["author"] == {"name": "Sunny Kitchen", "id": "6800000000000000001",
                              "url": "https://www.tiktok.com/@sunny.kitchen"}
    assert [(v["quality"], v["width"], v["height"], v["hasAudio"]) for v in data["videos"][:3]] == [
        ("1080p", 1080, 1920, True), ("1080p", 1080, 1920, True), ("720p", 720, 1280, True)]
    assert data["videos"][-1]["quality"] == "watermarked"  # the watermarked download comes last
    first = data["videos"][0]
    assert first["url"].endswith("/1080/?mime_type=video_mp4&qs=12&rc=b1080") and first["source"] == "direct"
    assert first["headers"]["Referer"] == VIDEO_PAGE and first["headers"]["Cookie"] == "tt_chain_token=chain123"
    assert [(a["url"].rsplit("/", 1)[1], a["mimeType"]) for a in data["audios"]] == [
        ("7301234567890000001.mp3", "audio/mpeg")]


def test_an_embed_link_reads_the_canonical_page():
    with replay({f"https://www.tiktok.com/@_/video/{VIDEO_ID}*": "tiktok/video_page.html"}) as calls:
        result = TikTokExtractor().extract(recognize(f"https://www.tiktok.com/embed/v2/{VIDEO_ID}"))
    assert result.id == VIDEO_ID and result.videos and len(calls) == 1


def test_a_photo_post_has_its_images_in_order_with_sizes_and_its_music():
    with respx.mock() as mock:
        mock.get(PHOTO_PAGE).respond(200, html=html("photo_page.html"), headers=CHAIN)
        data = TikTokExtractor().extract(recognize(f"https://www.tiktok.com/@market.days/photo/{PHOTO_ID}")).to_dict()
    assert (data["id"], data["duration"], data["videos"]) == (PHOTO_ID, 0, [])
    assert data["url"] == f"https://www.tiktok.com/@market.days/photo/{PHOTO_ID}"
    assert [(i["url"].split("~")[0].rsplit("/", 1)[1], i["width"], i["height"]) for i in data["images"]] == [
        ("a1b2c3", 1080, 1440), ("d4e5f6", 1080, 1350), ("0a9b8c", 1440, 1080)]
    assert all(i["headers"]["Cookie"] == "tt_chain_token=chain123" and i["headers"]["Referer"] ==
               "https://www.tiktok.com/" for i in data["images"])
    assert data["audios"][0]["url"].endswith("/7309876543210000009.mp3")
    assert data["title"] == "Weekend market finds, swipe for the best one"
    assert data["author"]["name"] == "Market Days"


def test_a_photo_post_behind_a_video_link_falls_back_to_the_page_reading():
    with replay({f"{PHOTO_PAGE}*": "tiktok/photo_page.html"}) as calls, respx.mock() as mock:
        mock.get(PHOTO_PAGE).respond(200, html=html("photo_page.html"))
        result = TikTokExtractor().extract(recognize(PHOTO_PAGE))
    assert len(calls) == 1  # yt-dlp found only the music ...
    assert len(result.images) == 3 and not result.videos  # ... so the images come from our reading


@pytest.mark.parametrize("page, error, reason", [
    ("private_page.html", ContentUnavailable, "private"),
    ("invisible_page.html", ContentUnavailable, "private"),
    ("region_page.html", ContentUnavailable, "region_blocked"),
    ("removed_page.html", ContentUnavailable, "deleted"),
    ("missing_page.html", UpstreamFailure, "upstream_error"),  # 10204: also every post to a blocked IP
])
def test_private_region_and_missing_posts_say_why_for_videos_and_photos(page, error, reason):
    with replay({"https://www.tiktok.com/*": f"tiktok/{page}"}), pytest.raises(error) as video:
        TikTokExtractor().extract(recognize(f"https://www.tiktok.com/@x/video/{VIDEO_ID}"))
    with respx.mock() as mock, pytest.raises(error) as photo:
        mock.get(f"https://www.tiktok.com/@x/video/{PHOTO_ID}").respond(200, html=html(page))
        TikTokExtractor().extract(recognize(f"https://www.tiktok.com/@x/photo/{PHOTO_ID}"))
    assert video.value.reason == photo.value.reason == reason


def test_a_login_wall_redirect_is_login_required():
    with replay({f"{VIDEO_PAGE}*": (None, 302, {"Location": "https://www.tiktok.com/login?redirect_url=x"}),
                 "https://www.tiktok.com/login*": "tiktok/private_page.html"}), \
            pytest.raises(ContentUnavailable) as video:
        TikTokExtractor().extract(recognize(VIDEO_PAGE))
    assert video.value.reason == "login_required"
    with respx.mock() as mock, pytest.raises(ContentUnavailable) as photo:
        mock.get(f"https://www.tiktok.com/@market.days/video/{PHOTO_ID}").respond(
            302, headers={"Location": "https://www.tiktok.com/login?redirect_url=x"})
        mock.get("https://www.tiktok.com/login?redirect_url=x").respond(200, html="<html>log in</html>")
        TikTokExtractor().extract(recognize(f"https://www.tiktok.com/@market.days/photo/{PHOTO_ID}"))
    assert photo.value.reason == "login_required"


def test_a_challenge_page_without_data_is_an_upstream_failure_and_a_timeout_a_timeout():
    with respx.mock() as mock, pytest.raises(UpstreamFailure):
        mock.get(PHOTO_PAGE).respond(200, html="<html><div id='cs'>Please wait...</div></html>")
        TikTokExtractor().extract(recognize(f"https://www.tiktok.com/@market.days/photo/{PHOTO_ID}"))
    with respx.mock() as mock, pytest.raises(UpstreamTimeout):
        mock.get(PHOTO_PAGE).mock(side_effect=httpx.ReadTimeout("slow"))
        TikTokExtractor().extract(recognize(f"https://www.tiktok.com/@market.days/photo/{PHOTO_ID}"))


@pytest.mark.parametrize("short", ["https://vm.tiktok.com/ZMhvqKxY7/", "https://www.tiktok.com/t/ZTRabc123/"])
def test_a_short_link_is_expanded_then_extracted(short):
    with respx.mock() as mock:
        mock.get(short).respond(301, headers={"Location": f"{VIDEO_PAGE}?_t=ZT-8abc&_r=1"})
        target = resolve(recognize(f"Check this out! {short}"))
    assert (target.kind, target.id) == ("video", VIDEO_ID)
    with replay({f"{VIDEO_PAGE}*": "tiktok/video_page.html"}):
        assert TikTokExtractor().extract(target).id == VIDEO_ID
