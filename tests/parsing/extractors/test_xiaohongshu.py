"""Xiaohongshu: video and image notes (live photos included) from __INITIAL_STATE__, typed failures."""

from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.expansion import resolve
from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.xiaohongshu import XiaohongshuExtractor, _result
from parsing.recognition import recognize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "xiaohongshu"
VIDEO_ID = "66f1a2b3000000001e0248c7"
IMAGE_ID = "66f2b3c4000000001b0357d8"
TOKEN = "ABz0Yx1WvU2tS3rQ4pO5nM6lK7jI8hG9fE0dC1bA2zZ4="
QUERY = "xsec_token=ABz0Yx1WvU2tS3rQ4pO5nM6lK7jI8hG9fE0dC1bA2zZ4%3D"


def page(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def note_page(note_id: str) -> str:
    return f"https://www.xiaohongshu.com/explore/{note_id}?{QUERY}"


def extract(link: str) -> dict:
    return XiaohongshuExtractor().extract(recognize(link)).to_dict()


def test_video_note_streams_best_first_with_the_token_sent_along():
    with respx.mock() as mock:
        route = mock.get(note_page(VIDEO_ID)).respond(200, html=page("note_video.html"))
        data = extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}&xsec_source=pc_feed")
    assert route.called
    best, compatible = data["videos"]
    assert best["url"].startswith("https://sns-video-qc.xhscdn.com/stream/1/110/114/")  # 1080p h265, upgraded to https
    assert (best["width"], best["height"], best["quality"], best["bitrate"]) == (1080, 1920, "1080p", 1_579_000)
    assert compatible["url"].startswith("https://sns-video-qc.xhscdn.com/stream/1/110/259/")
    assert (compatible["width"], compatible["height"], compatible["quality"]) == (720, 1280, "720p")
    for video in data["videos"]:
        assert (video["mimeType"], video["hasAudio"], video["source"]) == ("video/mp4", True, "direct")
        assert video["headers"]["Referer"] == "https://www.xiaohongshu.com/"
    assert data["title"] == "三分钟学会手冲咖啡"
    assert data["duration"] == 95
    assert data["thumbnail"].startswith("https://sns-webpic-qc.xhscdn.com/202409261200/9f8e7d6c5b4a/")
    assert data["images"] == [] and data["audios"] == []
    assert data["id"] == VIDEO_ID and data["url"] == note_page(VIDEO_ID)
    assert data["author"] == {"name": "咖啡小白日记", "id": "5f8e7d6c000000000100a1b2",
                              "url": "https://www.xiaohongshu.com/user/profile/5f8e7d6c000000000100a1b2"}


def test_video_without_streams_falls_back_to_the_original_on_the_video_cdn():
    html = page("note_video.html").replace('"h264":[{', '"h264x":[{').replace('"h265":[{', '"h265x":[{')
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(200, html=html)
        data = extract(f"https://www.xiaohongshu.com/discovery/item/{VIDEO_ID}?xsec_token={TOKEN}")
    [video] = data["videos"]
    assert video["url"] == "https://sns-video-bd.xhscdn.com/pre_post/1040g2t031a2b3c4d5e6f7g8h9i0jk0l1m2n3o4"
    assert video["quality"] == "original"


def test_image_note_pictures_with_sizes_and_live_photo_clip():
    with respx.mock() as mock:
        mock.get(note_page(IMAGE_ID)).respond(200, html=page("note_image.html"))
        data = extract(f"https://www.xiaohongshu.com/explore/{IMAGE_ID}?xsec_token={TOKEN}")
    urls = [i["url"] for i in data["images"]]
    assert urls == [
        "https://sns-webpic-qc.xhscdn.com/202409271200/dd44ee55ff66/1040g2sg31b2c3d4e5f6g7h8i9j0!nd_dft_wlteh_webp_3",
        "https://sns-webpic-qc.xhscdn.com/202409271200/6a7b8c9d0e1f/1040g2sg31b2c3d4e5f6g7h8i9j1!nd_dft_wlteh_webp_3",
        # no urlDefault: the default-scene entry of infoList
        "https://sns-webpic-qc.xhscdn.com/202409271200/3344eeff0011/1040g2sg31b2c3d4e5f6g7h8i9j2!nd_dft_wlteh_webp_3",
    ]
    assert [(i["width"], i["height"]) for i in data["images"]] == [(1242, 1656), (1080, 1440), (1440, 1080)]
    assert all(i["headers"]["Referer"] == "https://www.xiaohongshu.com/" for i in data["images"])
    [live] = data["videos"]
    assert live["url"] == ("https://sns-video-bd.xhscdn.com/stream/1/10/19/"
                           "01e6f2b3c4d5e6f7010050019207a1b2c3_19.mp4")
    assert (live["width"], live["height"]) == (1080, 1440)
    assert data["duration"] == 0
    assert data["title"] == "杭州两日游攻略"
    assert data["thumbnail"] == urls[0]


def test_short_link_is_expanded_with_its_token_then_read_from_the_note_page():
    landing = (f"https://www.xiaohongshu.com/discovery/item/{IMAGE_ID}?app_platform=ios&share_from_user_hidden=true"
               f"&xsec_source=app_share&type=normal&xsec_token={QUERY.split('=', 1)[1]}&author_share=1")
    with respx.mock() as mock:
        mock.get("http://xhslink.com/a/AbCdEf2").respond(307, headers={"Location": landing})
        route = mock.get(note_page(IMAGE_ID)).respond(200, html=page("note_image.html"))
        target = resolve(recognize("杭州两日游攻略 http://xhslink.com/a/AbCdEf2 复制本条信息，打开【小红书】App查看"))
        data = XiaohongshuExtractor().extract(target).to_dict()
    assert (target.kind, target.id) == ("note", IMAGE_ID)
    assert route.called  # the share's xsec_token went along
    assert data["id"] == IMAGE_ID and len(data["images"]) == 3


def test_missing_note_is_deleted():
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(200, html=page("note_missing.html"))
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
    assert caught.value.reason == "deleted"


def test_redirect_to_the_not_found_page_is_deleted():
    gone = "https://www.xiaohongshu.com/404?source=note&error_code=-510001&error_msg=%E7%AC%94%E8%AE%B0%E4%B8%8D%E5%AD%98%E5%9C%A8"
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(302, headers={"Location": gone})
        mock.get(gone).respond(200, html=page("not_available.html"))
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
    assert caught.value.reason == "deleted"


@pytest.mark.parametrize("response", [
    httpx.Response(200, html=page("login_wall.html")),
    httpx.Response(200, html=page("not_available.html")),
])
def test_login_wall_is_login_required(response):
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).mock(return_value=response)
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
    assert caught.value.reason == "login_required"


def test_captcha_redirect_is_an_upstream_failure():
    captcha = ("https://www.xiaohongshu.com/website-login/captcha?redirectPath=https%3A%2F%2Fwww.xiaohongshu.com"
               "%2Fexplore%2F66f1a2b3000000001e0248c7&verifyUuid=4a1c1a17&verifyType=102&verifyBiz=461")
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(302, headers={"Location": captcha})
        mock.get(captcha).respond(200, html=page("captcha.html"))
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")


def test_rate_limit_page_and_refusals_are_upstream_failures():
    limited = "https://www.xiaohongshu.com/website-login/error?error_code=300013"
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(302, headers={"Location": limited})
        mock.get(limited).respond(200, html="<html><p>访问频繁，请稍后再试</p></html>")
        mock.get(note_page(IMAGE_ID)).respond(461, text="")
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.xiaohongshu.com/explore/{IMAGE_ID}?xsec_token={TOKEN}")


def test_timeout_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).mock(side_effect=httpx.ReadTimeout("timed out"))
        with pytest.raises(UpstreamTimeout):
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")


def test_malformed_state_is_an_upstream_failure():
    html = '<script>window.__INITIAL_STATE__={"note":{"noteDetailMap":{"a":undefined,,}}}</script>'
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(200, html=html)
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")


def test_a_link_without_token_is_fetched_without_one():
    with respx.mock() as mock:
        mock.get(f"https://www.xiaohongshu.com/explore/{IMAGE_ID}").respond(200, html=page("note_image.html"))
        data = extract(f"https://www.xiaohongshu.com/explore/{IMAGE_ID}")
    assert data["url"] == f"https://www.xiaohongshu.com/explore/{IMAGE_ID}"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
URL = st.sampled_from(["http://sns-webpic-qc.xhscdn.com/a!nd_dft", "https://sns-video-bd.xhscdn.com/b.mp4", ""]) | JSON
STREAM = JSON | st.fixed_dictionaries({}, optional={codec: JSON | st.lists(JSON | st.fixed_dictionaries({}, optional={
    "masterUrl": URL, "width": JSON, "height": JSON, "videoBitrate": JSON, "duration": JSON}), max_size=2)
    for codec in ("h264", "h265", "av1")})
NOTE = st.fixed_dictionaries({}, optional={
    "noteId": JSON, "type": st.sampled_from(["video", "normal"]) | JSON, "title": JSON, "desc": JSON,
    "user": JSON | st.fixed_dictionaries({}, optional={"userId": JSON, "nickname": JSON, "nickName": JSON}),
    "imageList": JSON | st.lists(JSON | st.fixed_dictionaries({}, optional={
        "urlDefault": URL, "url": URL, "urlPre": URL, "width": JSON, "height": JSON, "livePhoto": JSON,
        "stream": STREAM, "infoList": JSON | st.lists(JSON | st.fixed_dictionaries({}, optional={
            "imageScene": st.just("WB_DFT") | JSON, "url": URL}), max_size=2)}), max_size=3),
    "video": JSON | st.fixed_dictionaries({}, optional={
        "media": JSON | st.fixed_dictionaries({}, optional={"stream": STREAM, "video": JSON}),
        "capa": JSON | st.fixed_dictionaries({}, optional={"duration": JSON}),
        "consumer": JSON | st.fixed_dictionaries({}, optional={"originVideoKey": URL})}),
})


@settings(max_examples=300, deadline=None)
@given(NOTE)
def test_any_note_shape_normalises_without_raising(note):
    data = _result(note, VIDEO_ID, note_page(VIDEO_ID)).to_dict()
    assert data["platform"] == "xiaohongshu" and isinstance(data["title"], str)
    for kind in ("videos", "images", "audios"):
        assert all(isinstance(m["url"], str) and m["url"] for m in data[kind])
