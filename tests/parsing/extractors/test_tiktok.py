"""TikTok: videos through the real yt-dlp extractor (replayed, impersonated page fetch), photo posts
through our own page reading (respx), short links through the real resolve()."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from parsing.expansion import resolve
from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.tiktok import TikTokExtractor, photo_result, read_item
from parsing.recognition import recognize
from tests.support.mutations import assert_only_typed_errors, mutated
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


def test_a_photo_post_carries_its_posting_time_and_counts():
    with respx.mock() as mock:
        mock.get(PHOTO_PAGE).respond(200, html=html("photo_page.html"), headers=CHAIN)
        data = TikTokExtractor().extract(recognize(f"https://www.tiktok.com/@market.days/photo/{PHOTO_ID}")).to_dict()
    assert data["uploadedAt"] == "2023-11-18T09:33:20Z"  # createTime "1700300000"
    # stats: playCount 55012, diggCount 3120, commentCount 41, shareCount 88 (collectCount is not among them)
    assert data["stats"] == {"views": 55012, "likes": 3120, "comments": 41, "shares": 88}
    assert "description" not in data  # desc is the title already


def test_stats_v2_strings_are_read_first_and_an_unreadable_one_leaves_the_number():
    item = {**photo_item(), "statsV2": {"playCount": "4300000000", "diggCount": "3121", "commentCount": "4.1K"}}
    stats = photo_result(item).to_dict()["stats"]
    assert stats == {"views": 4_300_000_000, "likes": 3121, "comments": 41, "shares": 88}
    bare = {**photo_item(), "createTime": "yesterday", "stats": {"diggCount": "1.2M", "playCount": -1}}
    assert not {"uploadedAt", "stats"} & set(photo_result(bare).to_dict())


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


# --- shape errors, photo posts without photos, mutated page data ------------------------------------------------
_DATA = re.compile(r'(<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">)(.*?)(</script>)', re.S)


def universal_data(name: str = "photo_page.html") -> dict:
    """The page's embedded JSON, read from the fixture."""
    return json.loads(_DATA.search(html(name)).group(2))


def with_data(data: object, name: str = "photo_page.html", *, text: str | None = None) -> str:
    """The fixture page carrying ``data`` (or the raw ``text``) as its embedded JSON."""
    body = text if text is not None else json.dumps(data)
    return _DATA.sub(lambda m: m.group(1) + body + m.group(3), html(name))


def photo_item() -> dict:
    return universal_data()["__DEFAULT_SCOPE__"]["webapp.video-detail"]["itemInfo"]["itemStruct"]


def test_an_unreadable_status_code_is_no_untyped_error_and_the_item_is_still_read():
    text = json.dumps(universal_data()).replace('"statusCode": 0', '"statusCode": Infinity')
    assert "Infinity" in text
    with respx.mock() as mock:
        mock.get(PHOTO_PAGE).respond(200, html=with_data(None, text=text))
        result = TikTokExtractor().extract(recognize(f"https://www.tiktok.com/@market.days/photo/{PHOTO_ID}"))
    assert len(result.images) == 3


@pytest.mark.parametrize("scope", [
    [1, 2],
    {"__DEFAULT_SCOPE__": [1]},
    {"__DEFAULT_SCOPE__": {"webapp.video-detail": ["x"]}},
    {"__DEFAULT_SCOPE__": {"webapp.video-detail": {"statusCode": 0, "itemInfo": "x"}}},
    {"__DEFAULT_SCOPE__": {"webapp.video-detail": {"statusCode": [0], "itemInfo": {"itemStruct": {"id": "1"}}}}},
])
def test_page_data_shapes_give_an_item_or_a_typed_error(scope):
    assert_only_typed_errors(lambda: read_item(with_data(scope)))


@pytest.mark.parametrize("change", [
    {"imagePost": {"images": 5}},
    {"imagePost": {"images": [{"imageURL": {"urlList": "https://p16-sign-va.tiktokcdn.com/a.jpeg"}}]}},
    {"imagePost": {"images": [{"imageURL": [1]}, None, "x"]}},
    {"imagePost": "gallery"},
    {"author": ["market.days"]},
    {"music": "Sunday Morning"},
    {"id": None},
])
def test_item_shapes_give_a_result_or_a_typed_error(change):
    result = assert_only_typed_errors(lambda: photo_result({**photo_item(), **change}))
    if result is not None:
        data = result.to_dict()
        assert json.loads(json.dumps(data, allow_nan=False)) == data
        assert all(isinstance(i["url"], str) and i["url"].startswith("http") for i in data["images"])


def test_a_photo_post_whose_photos_cannot_be_resolved_is_no_media_despite_its_music_and_cover():
    data = universal_data()
    item = data["__DEFAULT_SCOPE__"]["webapp.video-detail"]["itemInfo"]["itemStruct"]
    for image in item["imagePost"]["images"]:
        image["imageURL"]["urlList"] = []
    assert item["music"]["playUrl"] and item["imagePost"]["cover"]  # music and cover are known ...
    with respx.mock() as mock, pytest.raises(ContentUnavailable) as caught:
        mock.get(PHOTO_PAGE).respond(200, html=with_data(data))
        TikTokExtractor().extract(recognize(f"https://www.tiktok.com/@market.days/photo/{PHOTO_ID}"))
    assert caught.value.reason == "no_media"  # ... but the photos were asked for


def test_a_photo_post_with_a_photo_missing_answers_the_others():
    data = universal_data()
    item = data["__DEFAULT_SCOPE__"]["webapp.video-detail"]["itemInfo"]["itemStruct"]
    item["imagePost"]["images"][1]["imageURL"]["urlList"] = []
    with respx.mock() as mock:
        mock.get(PHOTO_PAGE).respond(200, html=with_data(data))
        result = TikTokExtractor().extract(recognize(f"https://www.tiktok.com/@market.days/photo/{PHOTO_ID}"))
    assert [i.url.split("~")[0].rsplit("/", 1)[1] for i in result.images] == ["a1b2c3", "0a9b8c"]
    assert len(result.audios) == 1


def draw_mutation(data: st.DataObject, original: object) -> object:
    """A mutated copy of ``original``. mutated() can trip over its own earlier change (removing a key under a
    value it already replaced with None raises AttributeError inside the strategy): such a draw is skipped."""
    try:
        return data.draw(mutated(original))
    except AttributeError:
        reject()


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_page_data_gives_a_result_or_a_typed_error(data):
    payload = draw_mutation(data, universal_data())
    try:
        page = with_data(payload)
    except (RecursionError, ValueError):  # deeper than json.dumps goes: nothing a page could carry
        reject()
    assert_only_typed_errors(lambda: photo_result(read_item(page)))


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_items_give_a_result_or_a_typed_error(data):
    item = draw_mutation(data, photo_item())
    result = assert_only_typed_errors(lambda: photo_result(item))
    if result is not None:
        assert all(isinstance(i.url, str) and i.url for i in (*result.images, *result.audios))
        assert all(i.width is None or isinstance(i.width, int) for i in result.images)
        assert result.uploaded_at is None or isinstance(result.uploaded_at, str)
        if result.stats is not None:
            assert all(type(v) is int or v is None for v in result.stats.to_dict().values())
