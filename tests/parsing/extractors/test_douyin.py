"""Douyin: videos and image notes from the mobile share page, CDN links as they are, typed failures."""

import json
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.expansion import resolve
from parsing.extractors import douyin
from parsing.extractors.base import ContentUnavailable, UnsupportedLink, UpstreamFailure, UpstreamTimeout
from parsing.extractors.douyin import DouyinExtractor, _result
from parsing.http import MOBILE_UA
from parsing.recognition import recognize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "douyin"
VIDEO_ID = "7412345678901234567"
NOTE_ID = "7423456789012345678"
VIDEO_PAGE = f"https://www.iesdouyin.com/share/video/{VIDEO_ID}/"
NOTE_PAGE = f"https://www.iesdouyin.com/share/note/{NOTE_ID}/"
# The placeholder a note without music carries (its file name is what counts; the folder here is made up).
SILENT = "https://lf3-static.bytednsdoc.com/obj/eden-cn/a1b2c3/images_no_sound_volume_audio_file.mp3"


def page(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def extract(link: str) -> dict:
    return DouyinExtractor().extract(recognize(link)).to_dict()


def test_video_comes_unwatermarked_with_its_size_and_download_headers():
    with respx.mock() as mock:
        route = mock.get(VIDEO_PAGE).respond(200, html=page("share_video.html"))
        data = extract(f"https://www.douyin.com/video/{VIDEO_ID}")
    assert route.calls.last.request.headers["User-Agent"] == MOBILE_UA
    [video] = data["videos"]
    assert video["url"] == ("https://aweme.snssdk.com/aweme/v1/play/?video_id=v0200fg10000cr1abcdefghijklmnop0"
                            "&ratio=720p&line=0")
    assert (video["width"], video["height"], video["quality"]) == (720, 1280, "720p")
    assert (video["mimeType"], video["hasAudio"], video["source"]) == ("video/mp4", True, "direct")
    assert video["headers"]["Referer"] == "https://www.douyin.com/"
    assert "Mozilla/5.0" in video["headers"]["User-Agent"]
    assert data["images"] == [] and data["audios"] == []
    assert data["platform"] == "douyin"
    assert data["title"] == "周末去海边看日落🌅 #旅行 #日落"
    assert data["duration"] == 15.232
    assert data["thumbnail"].startswith("https://p3-sign.douyinpic.com/tos-cn-p-0015/o4AbCdEfGhIjKlMn")
    assert data["id"] == VIDEO_ID and data["url"] == f"https://www.douyin.com/video/{VIDEO_ID}"
    assert data["author"] == {
        "name": "海边的小鹿", "id": "93847561203",
        "url": "https://www.douyin.com/user/MS4wLjABAAAAa1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ012345"}


@pytest.mark.parametrize("link", [
    f"https://www.douyin.com/jingxuan?modal_id={VIDEO_ID}",
    f"https://www.douyin.com/shipin/{VIDEO_ID}",
    f"https://www.douyin.com/vsdetail/{VIDEO_ID}",
    f"https://www.iesdouyin.com/share/video/{VIDEO_ID}/?region=CN",
])
def test_every_video_link_form_reads_the_same_share_page(link):
    with respx.mock() as mock:
        mock.get(VIDEO_PAGE).respond(200, html=page("share_video.html"))
        assert extract(link)["id"] == VIDEO_ID


def test_image_note_gives_pictures_live_clip_and_background_music():
    with respx.mock() as mock:
        mock.get(NOTE_PAGE).respond(200, html=page("share_note.html"))
        data = extract(f"https://www.douyin.com/note/{NOTE_ID}")
    first, second = data["images"]
    # jpeg preferred over webp; sizes as the page gives them.
    assert first["url"].startswith("https://p3-sign.douyinpic.com/tos-cn-i-0813c001/o0AaBbCcDd~tplv-dy-aweme-images:q75.jpeg")
    assert (first["width"], first["height"]) == (1440, 1920)
    assert (second["width"], second["height"]) == (1920, 1440)
    assert ".jpeg" in second["url"]
    assert all(i["headers"]["Referer"] == "https://www.douyin.com/" for i in data["images"])
    [clip] = data["videos"]
    assert clip["url"].startswith("https://v26-web.douyinvod.com/") and (clip["width"], clip["height"]) == (1920, 1440)
    [music] = data["audios"]
    assert music["url"] == "https://sf3-cdn-tos.douyinstatic.com/obj/ies-music/7423456700000000002.mp3"
    assert music["mimeType"] == "audio/mpeg"
    assert data["duration"] == 0
    assert data["thumbnail"] == first["url"]
    assert data["url"] == f"https://www.douyin.com/note/{NOTE_ID}"
    assert data["author"]["name"] == "橙子拍照日记"


def test_a_note_behind_a_video_link_is_still_an_image_note():
    with respx.mock() as mock:
        mock.get(f"https://www.iesdouyin.com/share/video/{NOTE_ID}/").respond(200, html=page("share_note.html"))
        data = extract(f"https://www.douyin.com/video/{NOTE_ID}")
    assert len(data["images"]) == 2 and data["url"] == f"https://www.douyin.com/note/{NOTE_ID}"


def test_short_link_is_expanded_then_read_from_the_share_page():
    share = f"https://www.iesdouyin.com/share/video/{VIDEO_ID}/?region=CN&mid=7412345600000000001&u_code=0"
    with respx.mock() as mock:
        mock.get("https://v.douyin.com/iAbC123/").respond(302, headers={"Location": share})
        mock.get(VIDEO_PAGE).respond(200, html=page("share_video.html"))
        target = resolve(recognize("7.43 复制打开抖音，看看【海边的小鹿的作品】 https://v.douyin.com/iAbC123/ aBc:/"))
        data = DouyinExtractor().extract(target).to_dict()
    assert (target.kind, target.id) == ("video", VIDEO_ID)
    assert data["id"] == VIDEO_ID and data["videos"][0]["url"].startswith("https://aweme.snssdk.com/aweme/v1/play/")


@pytest.mark.parametrize("fixture, reason", [("share_deleted.html", "deleted"), ("share_private.html", "private")])
def test_filtered_post_is_unavailable_with_the_reason(fixture, reason):
    with respx.mock() as mock:
        mock.get(VIDEO_PAGE).respond(200, html=page(fixture))
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.douyin.com/video/{VIDEO_ID}")
    assert caught.value.reason == reason


@pytest.mark.parametrize("response", [
    httpx.Response(200, html=page("captcha.html")),
    httpx.Response(403, text="Forbidden"),
    httpx.Response(503, text="busy"),
])
def test_verification_page_or_refusal_is_an_upstream_failure(response):
    with respx.mock() as mock:
        mock.get(VIDEO_PAGE).mock(return_value=response)
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.douyin.com/video/{VIDEO_ID}")


def test_timeout_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(VIDEO_PAGE).mock(side_effect=httpx.ReadTimeout("timed out"))
        with pytest.raises(UpstreamTimeout):
            extract(f"https://www.douyin.com/video/{VIDEO_ID}")


def test_malformed_router_data_is_an_upstream_failure_not_a_crash():
    with respx.mock() as mock:
        mock.get(VIDEO_PAGE).respond(200, html=page("share_malformed.html"))
        with pytest.raises(UpstreamFailure) as caught:
            extract(f"https://www.douyin.com/video/{VIDEO_ID}")
    assert caught.value.reason == "upstream_error"


def test_page_without_post_information_is_an_upstream_failure():
    html = '<script>window._ROUTER_DATA = {"loaderData":{"video_layout":{}},"errors":null}</script>'
    with respx.mock() as mock:
        mock.get(VIDEO_PAGE).respond(200, html=html)
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.douyin.com/video/{VIDEO_ID}")


@pytest.mark.parametrize("link, kind, mime", [
    ("https://v26-web.douyinvod.com/3f2e1d/6700aa00/video/tos/cn/tos-cn-ve-15c001/o0Abc/?a=6383&mime_type=video_mp4",
     "videos", "video/mp4"),
    ("https://p3-sign.douyinpic.com/tos-cn-i-0813/o0Abc~tplv-dy-aweme-images:q75.webp?x-expires=1&from=1",
     "images", None),
    ("https://sf3-cdn-tos.douyinstatic.com/obj/ies-music/7423456700000000002.mp3", "audios", "audio/mpeg"),
])
def test_cdn_links_are_returned_as_they_are_without_a_request(link, kind, mime):
    with respx.mock():  # any request would fail: nothing is routed
        data = extract(link)
    [item] = data[kind]
    assert item["url"] == link and item["headers"]["Referer"] == "https://www.douyin.com/"
    if mime:
        assert item["mimeType"] == mime
    assert sum(len(data[k]) for k in ("videos", "images", "audios")) == 1


def test_cdn_link_of_unknown_type_is_unsupported():
    with respx.mock(), pytest.raises(UnsupportedLink):
        extract("https://lf3-static.douyinstatic.com/obj/eden-cn/some/asset")


def router_page(item: dict) -> str:
    return ('<script>window._ROUTER_DATA = ' + json.dumps(
        {"loaderData": {"video_(id)/page": {"videoInfoRes": {"item_list": [item], "filter_list": []}}}}) + "</script>")


def test_video_post_whose_video_is_gone_is_no_media_even_with_its_cover():
    item = {"aweme_id": VIDEO_ID, "aweme_type": 0, "media_type": 4, "desc": "x", "video": {
        "cover": {"url_list": ["https://p3-sign.douyinpic.com/tos-cn-i-dy/c0ver~tplv-dy-360p.jpeg"]},
        "play_addr": {"url_list": []}, "bit_rate": []}}
    with respx.mock() as mock:
        mock.get(VIDEO_PAGE).respond(200, html=router_page(item))
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.douyin.com/video/{VIDEO_ID}")
    assert caught.value.reason == "no_media"


def test_a_notes_silent_placeholder_is_not_returned_as_its_music():
    item = {"aweme_id": NOTE_ID, "aweme_type": 0, "media_type": 2,
            "images": [{"url_list": ["https://p3-sign.douyinpic.com/tos-cn-i-0813/o1~tplv-dy-aweme-images:q75.jpeg"]}],
            "video": {"play_addr": {"url_list": [SILENT]}}, "music": {"play_url": {"url_list": []}}}
    data = _result(item, NOTE_ID).to_dict()
    assert len(data["images"]) == 1 and data["audios"] == [] and data["videos"] == []


def test_a_2026_note_is_told_by_media_type_not_aweme_type():
    item = {"aweme_id": NOTE_ID, "aweme_type": 0, "media_type": 2, "images": None,
            "video": {"play_addr": {"url_list": [SILENT]}}}
    with pytest.raises(ContentUnavailable) as caught:  # not its silent placeholder served as a "video"
        _result(item, NOTE_ID)
    assert caught.value.reason == "no_media"


def test_live_photo_clip_takes_its_own_frame_and_best_unwatermarked_rendition():
    clip = {"width": 720, "height": 960,
            "play_addr": {"url_list": ["https://v26-web.douyinvod.com/a/b/video/tos/cn/low/?br=500"],
                          "width": 720, "height": 960},
            "download_addr": {"url_list": ["https://v26-web.douyinvod.com/a/b/video/cn/mps/logo/r/p/x/"]},
            "bit_rate": [
                {"bit_rate": 500_000, "play_addr": {"url_list": ["https://v26-web.douyinvod.com/a/b/video/tos/cn/low/?br=500"],
                                                     "width": 720, "height": 960}},
                {"bit_rate": 900_000, "play_addr": {"url_list": ["https://v26-web.douyinvod.com/a/b/video/tos/cn/high/?br=900",
                                                                 "https://v11-weba.douyinvod.com/a/b/high/"],
                                                     "width": 1080, "height": 1440}}]}
    item = {"aweme_id": NOTE_ID, "media_type": 42, "images": [
        {"url_list": ["https://p3-sign.douyinpic.com/o1~tplv-dy-aweme-images:q75.jpeg"], "width": 3024, "height": 4032,
         "video": clip}]}
    data = _result(item, NOTE_ID).to_dict()
    [video] = data["videos"]
    assert video["url"] == "https://v26-web.douyinvod.com/a/b/video/tos/cn/high/?br=900"
    assert (video["width"], video["height"], video["quality"], video["bitrate"]) == (1080, 1440, "1080p", 900_000)
    assert video["headers"]["Referer"] == "https://www.douyin.com/"


@pytest.mark.parametrize("payload", [None, [], "item", 7, [{"aweme_id": "1"}]])
def test_a_payload_of_another_shape_is_a_typed_upstream_failure(payload):
    with pytest.raises(UpstreamFailure):
        _result(payload, VIDEO_ID)


@pytest.mark.parametrize("router", [None, [], {"loaderData": []}, {"loaderData": {"p": {"videoInfoRes": []}}}])
def test_router_data_of_another_shape_is_a_typed_upstream_failure(router):
    with pytest.raises(UpstreamFailure):
        douyin._router_item(router)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
URLS = st.lists(st.sampled_from(["https://aweme.snssdk.com/aweme/v1/playwm/?video_id=v1&ratio=720p", "http://[",
                                 "https://p3.douyinpic.com/a.webp", "x.mp3"]) | JSON, max_size=3)
ADDR = JSON | st.fixed_dictionaries({}, optional={"url_list": URLS, "width": JSON, "height": JSON})
VIDEO = JSON | st.fixed_dictionaries({}, optional={
    "play_addr": ADDR, "cover": ADDR, "width": JSON, "height": JSON, "duration": JSON, "ratio": JSON,
    "bit_rate": JSON | st.lists(JSON | st.fixed_dictionaries({}, optional={"play_addr": ADDR, "bit_rate": JSON}))})
ITEM = st.fixed_dictionaries({}, optional={
    "aweme_id": JSON, "desc": JSON, "aweme_type": st.sampled_from([2, 4, 68, 150]) | JSON, "video": VIDEO,
    "author": JSON | st.fixed_dictionaries({}, optional={"uid": JSON, "sec_uid": JSON, "nickname": JSON}),
    "images": JSON | st.lists(JSON | st.fixed_dictionaries({}, optional={
        "url_list": URLS, "width": JSON, "height": JSON, "video": VIDEO}), max_size=2),
    "music": JSON | st.fixed_dictionaries({}, optional={"play_url": ADDR}),
})


@settings(max_examples=300, deadline=None)
@given(ITEM)
def test_any_post_shape_normalises_to_media_or_no_media(item):
    try:
        data = _result(item, VIDEO_ID).to_dict()
    except ContentUnavailable as exc:  # a post with nothing to download says so; it is never an empty result
        assert exc.reason == "no_media"
        return
    assert data["videos"] or data["images"]
    assert data["platform"] == "douyin" and isinstance(data["title"], str)
    for kind in ("videos", "images", "audios"):
        assert all(isinstance(m["url"], str) and m["url"] for m in data[kind])
