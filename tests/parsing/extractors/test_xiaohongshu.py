"""Xiaohongshu: video and image notes (live photos included) from __INITIAL_STATE__, typed failures."""

import json
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.expansion import resolve
from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.pagedata import embedded_json
from parsing.extractors.xiaohongshu import XiaohongshuExtractor, _result
from parsing.http import MOBILE_UA
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


def mobile_page(note_id: str) -> str:
    """The note's mobile page (discovery/item), fetched with a phone User-Agent when the desktop page fails."""
    return f"https://www.xiaohongshu.com/discovery/item/{note_id}?{QUERY}"


def state(name: str) -> dict:
    """The __INITIAL_STATE__ of a fixture page, as data."""
    return embedded_json(page(name), "window.__INITIAL_STATE__")


def fixture_note(name: str, note_id: str) -> dict:
    return state(name)["note"]["noteDetailMap"][note_id]["note"]


def html_with(name: str, value: object) -> str:
    """A page assigning ``value`` to the global ``name``."""
    return f"<!doctype html><html><body><div id='app'></div><script>{name}={json.dumps(value)}</script></body></html>"


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
    # The clip's stream gives no size: the still's 1080x1440 is not the clip's, so it stays unknown.
    assert (live["quality"], live["width"], live["height"]) == (None, None, None)
    assert data["duration"] == 0
    assert data["title"] == "杭州两日游攻略"
    assert data["thumbnail"] == urls[0]


def test_a_video_note_carries_its_text_time_and_the_counts_it_gives_as_integers():
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(200, html=page("note_video.html"))
        data = extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
    assert data["description"] == "新手也能冲出好喝的咖啡 #咖啡[话题]# #手冲[话题]#"
    assert data["uploadedAt"] == "2024-09-25T16:00:00Z"  # "time": 1727280000000 (milliseconds)
    # likedCount is "2.1万": no count, never an estimate; collectedCount (saves) is not among the stats.
    assert data["stats"] == {"views": None, "likes": None, "comments": 351, "shares": 1203}


def test_an_image_note_without_a_share_count_leaves_shares_unknown():
    with respx.mock() as mock:
        mock.get(note_page(IMAGE_ID)).respond(200, html=page("note_image.html"))
        data = extract(f"https://www.xiaohongshu.com/explore/{IMAGE_ID}?xsec_token={TOKEN}")
    assert data["description"] == "西湖+灵隐寺，路线和美食都在这里了 #杭州旅行[话题]#"
    assert data["uploadedAt"] == "2024-09-26T19:46:40Z"
    assert data["stats"] == {"views": None, "likes": 562, "comments": 45, "shares": None}


def test_a_note_without_title_or_counts_adds_no_metadata():
    note = {**fixture_note("note_image.html", IMAGE_ID), "title": "", "time": "soon",
            "interactInfo": {"likedCount": "1.2万", "commentCount": "10+", "shareCount": -3}}
    data = _result(note, IMAGE_ID, note_page(IMAGE_ID)).to_dict()
    assert data["title"] == note["desc"]  # the text became the title: it is not repeated as the description
    assert not {"description", "uploadedAt", "stats"} & set(data)


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
        mobile = mock.get(mobile_page(VIDEO_ID)).mock(return_value=response)
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
    assert mobile.called  # the mobile page was tried too
    assert caught.value.reason == "login_required"


def test_captcha_redirect_is_an_upstream_failure():
    captcha = ("https://www.xiaohongshu.com/website-login/captcha?redirectPath=https%3A%2F%2Fwww.xiaohongshu.com"
               "%2Fexplore%2F66f1a2b3000000001e0248c7&verifyUuid=4a1c1a17&verifyType=102&verifyBiz=461")
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(302, headers={"Location": captcha})
        mock.get(mobile_page(VIDEO_ID)).respond(302, headers={"Location": captcha})
        mock.get(captcha).respond(200, html=page("captcha.html"))
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")


def test_rate_limit_page_and_refusals_are_upstream_failures():
    limited = "https://www.xiaohongshu.com/website-login/error?error_code=300013"
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(302, headers={"Location": limited})
        mock.get(mobile_page(VIDEO_ID)).respond(302, headers={"Location": limited})
        mock.get(limited).respond(200, html="<html><p>访问频繁，请稍后再试</p></html>")
        mock.get(note_page(IMAGE_ID)).respond(461, text="")
        mock.get(mobile_page(IMAGE_ID)).respond(461, text="")
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
        mock.get(mobile_page(VIDEO_ID)).respond(200, html=html)
        with pytest.raises(UpstreamFailure):
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")


def test_a_link_without_token_is_fetched_without_one():
    with respx.mock() as mock:
        mock.get(f"https://www.xiaohongshu.com/explore/{IMAGE_ID}").respond(200, html=page("note_image.html"))
        data = extract(f"https://www.xiaohongshu.com/explore/{IMAGE_ID}")
    assert data["url"] == f"https://www.xiaohongshu.com/explore/{IMAGE_ID}"


# --- note shapes over the years, the mobile page, streams, live-photo clips, notes without media ----------------


def test_a_2023_page_keeps_the_note_at_note_note():
    old = {"note": {"note": fixture_note("note_image.html", IMAGE_ID), "serverRequestInfo": {"state": "success"}}}
    with respx.mock() as mock:
        mock.get(note_page(IMAGE_ID)).respond(200, html=html_with("window.__INITIAL_STATE__", old))
        data = extract(f"https://www.xiaohongshu.com/explore/{IMAGE_ID}?xsec_token={TOKEN}")
    assert len(data["images"]) == 3 and data["title"] == "杭州两日游攻略"


def test_a_note_wrapped_in_vue_refs_is_read():
    ref = {"dep": "<迭代陷阱>", "__v_isRef": True, "__v_isShallow": False}
    note = fixture_note("note_image.html", IMAGE_ID)
    hydrated = {"note": {"noteDetailMap": {**ref, "_rawValue": {IMAGE_ID: {"note": note}}, "_value": {}},
                         "serverRequestInfo": {**ref, "_rawValue": {"state": "success"}}}}
    with respx.mock() as mock:
        mock.get(note_page(IMAGE_ID)).respond(200, html=html_with("window.__INITIAL_STATE__", hydrated))
        data = extract(f"https://www.xiaohongshu.com/explore/{IMAGE_ID}?xsec_token={TOKEN}")
    assert len(data["images"]) == 3


def test_a_desktop_login_wall_falls_back_to_the_mobile_page_and_its_state():
    mobile_state = {"noteData": {"data": {"noteData": fixture_note("note_video.html", VIDEO_ID)}}}
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(200, html=page("login_wall.html"))
        mobile = mock.get(mobile_page(VIDEO_ID)).respond(200, html=html_with("window.__INITIAL_STATE__", mobile_state))
        data = extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
    assert mobile.calls.last.request.headers["User-Agent"] == MOBILE_UA
    assert [(v["width"], v["height"]) for v in data["videos"]] == [(1080, 1920), (720, 1280)]
    assert data["url"] == note_page(VIDEO_ID)  # the canonical (desktop) address of the note


def test_a_desktop_captcha_falls_back_to_the_mobile_setup_server_state():
    captcha = "https://www.xiaohongshu.com/website-login/captcha?redirectPath=x&verifyType=102"
    setup = {"LAUNCHER_SSR_STORE_PAGE_DATA": {"noteData": fixture_note("note_image.html", IMAGE_ID)}}
    with respx.mock() as mock:
        mock.get(note_page(IMAGE_ID)).respond(302, headers={"Location": captcha})
        mock.get(captcha).respond(200, html=page("captcha.html"))
        mock.get(mobile_page(IMAGE_ID)).respond(200, html=html_with("window.__SETUP_SERVER_STATE__", setup))
        data = extract(f"https://www.xiaohongshu.com/explore/{IMAGE_ID}?xsec_token={TOKEN}")
    assert len(data["images"]) == 3 and len(data["videos"]) == 1


def test_a_mobile_page_holding_another_note_is_not_taken_for_this_one():
    other = {**fixture_note("note_video.html", VIDEO_ID), "noteId": "66f0000000000000000000aa"}
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(200, html=page("login_wall.html"))
        mock.get(mobile_page(VIDEO_ID)).respond(
            200, html=html_with("window.__INITIAL_STATE__", {"noteData": {"data": {"noteData": other}}}))
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
    assert caught.value.reason == "login_required"  # the desktop page's answer stands


def test_a_timeout_is_not_followed_by_the_mobile_page():
    with respx.mock(assert_all_called=False) as mock:
        mock.get(note_page(VIDEO_ID)).mock(side_effect=httpx.ReadTimeout("timed out"))
        mobile = mock.get(mobile_page(VIDEO_ID)).respond(200, html="")
        with pytest.raises(UpstreamTimeout):
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
    assert not mobile.called  # the time is spent: no second page


def test_a_stream_without_its_master_url_plays_from_its_backup():
    html = page("note_video.html").replace('"masterUrl":', '"masterUrlGone":')
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(200, html=html)
        data = extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
    # The h265 rendition lists no backup: only the h264 one plays, from its backup host (not the original key).
    [video] = data["videos"]
    assert video["url"] == ("https://sns-video-bd.xhscdn.com/stream/1/110/259/"
                            "01e6f1a2b3c4d5e6010370019207e5f2c1_259.mp4")
    assert (video["width"], video["height"], video["quality"]) == (720, 1280, "720p")


def test_a_live_photo_clip_is_labelled_by_its_own_stream_never_by_the_photo():
    note = fixture_note("note_image.html", IMAGE_ID)
    live = note["imageList"][1]
    live.update({"width": 3024, "height": 4032})  # a phone's full-size still
    unsized = _result(note, IMAGE_ID, note_page(IMAGE_ID)).videos[0]
    assert (unsized.quality, unsized.width, unsized.height) == (None, None, None)  # not "3024p"
    live["stream"]["h264"][0].update({"width": 1080, "height": 1440})
    sized = _result(note, IMAGE_ID, note_page(IMAGE_ID)).videos[0]
    assert (sized.quality, sized.width, sized.height) == ("1080p", 1080, 1440)


def test_video_note_whose_video_cannot_be_resolved_is_no_media_despite_its_cover():
    note = fixture_note("note_video.html", VIDEO_ID)
    note["video"]["media"]["stream"] = {"h264": [], "h265": []}
    note["video"].pop("consumer")
    assert note["imageList"]  # the cover is known ...
    html = html_with("window.__INITIAL_STATE__", {"note": {"noteDetailMap": {VIDEO_ID: {"note": note}}}})
    with respx.mock() as mock:
        mock.get(note_page(VIDEO_ID)).respond(200, html=html)
        mobile = mock.get(mobile_page(VIDEO_ID)).respond(200, html=page("login_wall.html"))
        with pytest.raises(ContentUnavailable) as caught:
            extract(f"https://www.xiaohongshu.com/explore/{VIDEO_ID}?xsec_token={TOKEN}")
    assert mobile.called  # the mobile page may still have the streams
    assert caught.value.reason == "no_media"  # ... but the customer asked for the video


def test_a_gallery_with_a_picture_missing_answers_the_others():
    note = fixture_note("note_image.html", IMAGE_ID)
    note["imageList"][0] = {"width": 1242, "height": 1656, "url": "", "infoList": []}
    data = _result(note, IMAGE_ID, note_page(IMAGE_ID)).to_dict()
    assert [i["width"] for i in data["images"]] == [1080, 1440]


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
