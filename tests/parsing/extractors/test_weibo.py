"""Weibo: pictures, videos and mixed posts from the statuses API, the visitor-cookie flow, the mobile fallback
and failures; offline."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.weibo import (
    AJAX_URL,
    GENVISITOR_URL,
    INCARNATE_URL,
    MOBILE_URL,
    WeiboExtractor,
    mblogid_to_mid,
)
from parsing.http import BROWSER_UA
from parsing.recognition import recognize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "weibo"
VISITOR_REDIRECT = ("https://passport.weibo.com/visitor/visitor?entry=miniblog&a=enter"
                    "&url=https%3A%2F%2Fweibo.com%2Fajax%2Fstatuses%2Fshow%3Fid%3DOzYx1AbCd&domain=weibo.com")


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def extract(url: str):
    return WeiboExtractor().extract(recognize(url))


@pytest.mark.parametrize("mblogid, mid", [
    ("QcU3RlgvR", "5230754395068367"),
    ("N4xlMvjhI", "4910815147462302"),
    ("FBqgOmDxO", "4189191225395228"),
    ("LEZDodaiW", "4797700463137878"),
])
def test_mblogid_converts_to_the_numeric_id(mblogid, mid):
    assert mblogid_to_mid(mblogid) == mid


def test_picture_post_returns_every_picture_in_its_largest_size_in_post_order():
    with respx.mock() as mock:
        route = mock.get(AJAX_URL).respond(json=fixture("status_pictures.json"))
        data = extract("https://weibo.com/6543210987/OzYx1AbCd").to_dict()
    assert route.calls.last.request.url.params["id"] == "OzYx1AbCd"
    assert route.calls.last.request.headers["Referer"] == "https://weibo.com/"
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == [
        ("https://wx1.sinaimg.cn/large/007a1b2cly1hq1aaaaaaaaj31hc0u0qv5.jpg", 2560, 1440),
        ("https://wx2.sinaimg.cn/large/007a1b2cly1hq1bbbbbbbbj30u01hcnpd.jpg", 1080, 2560),
        ("https://wx3.sinaimg.cn/large/007a1b2cly1hq1ccccccccj32c03404qr.jpg", 2880, 3840),
    ]
    assert data["images"][0]["headers"] == {"User-Agent": BROWSER_UA, "Referer": "https://weibo.com/"}
    assert data["videos"] == [] and data["duration"] == 0
    assert data["title"].startswith("秋天的稻城亚丁，三张图")
    assert data["thumbnail"] == data["images"][0]["url"]
    assert data["id"] == "5090123456789012"
    assert data["url"] == "https://weibo.com/6543210987/OzYx1AbCd"
    assert data["author"] == {"name": "山海旅行笔记", "id": "6543210987", "url": "https://weibo.com/u/6543210987"}


def test_video_post_lists_playback_renditions_best_first():
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(json=fixture("status_video.json"))
        data = extract("https://m.weibo.cn/status/5090234567890123").to_dict()
    videos = data["videos"]
    assert [(v["quality"], v["width"], v["height"], v["bitrate"]) for v in videos] == [
        ("1080p", 1920, 1080, 3400000), ("720p", 1280, 720, 1600000), ("480p", 852, 480, 800000),
        ("360p", 640, 360, 400000),
    ]
    assert all(v["mimeType"] == "video/mp4" and v["source"] == "direct" and v["hasAudio"] for v in videos)
    assert videos[0]["url"].startswith("https://f.video.weibocdn.com/o0/")
    assert videos[0]["headers"]["Referer"] == "https://weibo.com/"
    assert data["duration"] == 94
    assert data["images"] == []
    assert data["thumbnail"] == "https://wx4.sinaimg.cn/orj480/007a1b2cly1hq2ddddddddj31hc0u07wh.jpg"


def test_mixed_post_keeps_pictures_and_video_in_order():
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(json=fixture("status_mixed.json"))
        data = extract("https://weibo.com/6543210987/OzZb3CdEf").to_dict()
    assert [(i["width"], i["height"]) for i in data["images"]] == [(1080, 1920), (1920, 1080)]
    assert [(v["quality"], v["width"], v["height"]) for v in data["videos"]] == [("720p", 720, 1280),
                                                                                    ("480p", 480, 852)]
    assert data["duration"] == 21


def test_cookieless_request_runs_the_visitor_flow_once_and_retries_with_its_cookies():
    with respx.mock() as mock:
        ajax = mock.get(AJAX_URL)
        ajax.side_effect = [
            httpx.Response(302, headers={"Location": VISITOR_REDIRECT}),
            httpx.Response(200, json=fixture("status_pictures.json")),
        ]
        mock.get(VISITOR_REDIRECT).respond(200, text="<html><script>/* visitor system */</script></html>")
        gen = mock.post(GENVISITOR_URL).respond(200, text=(FIXTURES / "genvisitor.jsonp").read_text())
        incarnate = mock.get(INCARNATE_URL).respond(200, text=(FIXTURES / "incarnate.jsonp").read_text(), headers=[
            ("Set-Cookie", "SUB=_2AkMRvisitorSUBvalue9f8e7d6c5b4a3; Path=/; Domain=.weibo.com; HttpOnly"),
            ("Set-Cookie", "SUBP=0033WrSXqPxfM72-Ws9jqgMF55529P9D9WFvisitorSUBP; Path=/; Domain=.weibo.com"),
        ])
        data = extract("https://weibo.com/6543210987/OzYx1AbCd").to_dict()
    assert len(data["images"]) == 3
    assert gen.called and "gen_callback" in gen.calls.last.request.content.decode()
    params = incarnate.calls.last.request.url.params
    assert (params["a"], params["w"], params["c"]) == ("incarnate", "3", "100")
    assert params["t"] == "X1yZ2abC3dEf4GhI5jKl6Mn7oPq8RsT9uVw0xYz1AbC="
    assert "SUB=_2AkMRvisitorSUBvalue9f8e7d6c5b4a3" in ajax.calls.last.request.headers["Cookie"]


def test_visitor_cookies_from_the_callback_body_are_used_when_no_cookie_header_comes():
    with respx.mock() as mock:
        ajax = mock.get(AJAX_URL)
        ajax.side_effect = [
            httpx.Response(302, headers={"Location": VISITOR_REDIRECT}),
            httpx.Response(200, json=fixture("status_pictures.json")),
        ]
        mock.get(VISITOR_REDIRECT).respond(200, text="<html></html>")
        mock.post(GENVISITOR_URL).respond(200, text=(FIXTURES / "genvisitor.jsonp").read_text())
        mock.get(INCARNATE_URL).respond(200, text=(FIXTURES / "incarnate.jsonp").read_text())
        extract("https://weibo.com/6543210987/OzYx1AbCd")
    cookie = ajax.calls.last.request.headers["Cookie"]
    assert "SUB=_2AkMRvisitorSUBvalue9f8e7d6c5b4a3" in cookie and "SUBP=" in cookie


def test_login_wall_is_login_required():
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(302, headers={"Location": "https://passport.weibo.com/sso/signin?entry=miniblog"})
        mock.get("https://passport.weibo.com/sso/signin").respond(200, text="<html>登录</html>")
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://weibo.com/6543210987/OzYx1AbCd")
    assert caught.value.reason == "login_required"


def test_api_asking_to_log_in_is_login_required():
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(json={"ok": -100, "url": "https://weibo.com/login.php"})
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://weibo.com/6543210987/OzYx1AbCd")
    assert caught.value.reason == "login_required"


@pytest.mark.parametrize("name, reason", [("deleted.json", "deleted"), ("private.json", "private")])
def test_deleted_and_private_posts_say_so(name, reason):
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(json=fixture(name))
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://weibo.com/6543210987/OzYx1AbCd")
    assert caught.value.reason == reason


def test_blocked_desktop_api_falls_back_to_the_mobile_api():
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(418, text="blocked")
        mobile = mock.get(MOBILE_URL).respond(json=fixture("mobile_status_pictures.json"))
        data = extract("https://weibo.com/6543210987/OzYx1AbCd").to_dict()
    assert mobile.calls.last.request.url.params["id"] == mblogid_to_mid("OzYx1AbCd")
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == [
        ("https://wx1.sinaimg.cn/large/007a1b2cly1hq1aaaaaaaaj31hc0u0qv5.jpg", 2560, 1440),
        ("https://wx1.sinaimg.cn/large/007a1b2cly1hq1bbbbbbbbj30u01hcnpd.jpg", 1080, 2560),
        ("https://wx1.sinaimg.cn/large/007a1b2cly1hq1ccccccccj32c03404qr.jpg", 2880, 3840),
    ]
    assert data["title"] == "秋天的稻城亚丁，三张图 #旅行#"
    assert data["author"]["name"] == "山海旅行笔记"


def test_malformed_answers_from_both_apis_are_an_upstream_failure():
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(200, text="<html>系统繁忙</html>")
        mock.get(MOBILE_URL).respond(200, json={"ok": 1, "data": "not a post"})
        with pytest.raises(UpstreamFailure):
            extract("https://weibo.com/6543210987/OzYx1AbCd")


def test_timeout_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(AJAX_URL).mock(side_effect=httpx.ConnectTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            extract("https://weibo.com/6543210987/OzYx1AbCd")


# --- video pages through yt-dlp (replayed through its request-handler interface) and short links ---------


def test_tv_show_video_page_goes_through_ytdlp():
    from tests.support.ytdlp_replay import replay

    component = {"code": "100000", "msg": "succ", "data": {"Component_Play_Playinfo": {
        "mid": "5090234567890123", "oid": "1034:5090234567890123", "title": "三分钟看完川西秋色",
        "duration_time": "01:34"}}}
    with replay({
        "POST https://weibo.com/tv/api/component?*": component,
        "https://weibo.com/ajax/statuses/show?id=5090234567890123*": "weibo/status_video.json",
    }) as calls:
        data = extract("https://weibo.com/tv/show/1034:5090234567890123?from=old_pc_videoshow").to_dict()
    assert b"1034:5090234567890123" in calls[0].data
    assert [(v["quality"], v["width"], v["height"]) for v in data["videos"]] == [
        ("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 852, 480), ("360p", 640, 360)]
    assert all(v["headers"]["Referer"] == "https://weibo.com/" and v["hasAudio"] for v in data["videos"])
    assert data["duration"] == 94
    assert data["author"]["name"] == "山海旅行笔记"


def test_video_weibo_com_fid_page_goes_through_ytdlp():
    from tests.support.ytdlp_replay import replay

    component = {"code": "100000", "data": {"Component_Play_Playinfo": {"mid": "5090234567890123"}}}
    with replay({
        "POST https://weibo.com/tv/api/component?*": component,
        "https://weibo.com/ajax/statuses/show?id=5090234567890123*": "weibo/status_video.json",
    }):
        data = extract("https://video.weibo.com/show?fid=1034:5090234567890123").to_dict()
    assert data["videos"][0]["quality"] == "1080p"


@pytest.mark.parametrize("short, landing", [
    ("https://t.cn/A6abCdEf", "https://weibo.com/6543210987/OzYx1AbCd"),
    ("https://mapp.api.weibo.cn/fx/8e1b2c3d4e5f60718293a4b5c6d7e8f9.html", "https://m.weibo.cn/status/OzYx1AbCd?wm=3333_2001"),
])
def test_short_links_expand_to_the_post(short, landing):
    from parsing.expansion import resolve

    target = recognize(f"分享一条微博 {short}")
    assert target.short
    with respx.mock() as mock:
        mock.get(short).respond(302, headers={"Location": landing})
        mock.get(AJAX_URL).respond(json=fixture("status_pictures.json"))
        data = WeiboExtractor().extract(resolve(target)).to_dict()
    assert data["id"] == "5090123456789012" and len(data["images"]) == 3


# --- live photos, shape errors, posts without playable media -------------------------------------------------

LIVE_CLIP = "https://livephoto.us.sinaimg.cn/000aBcDejx08q1bbbbbb0h04110000aaaa0k01.mov?Expires=1781265124&ssig=AbC&KID=unistore,video"


def test_live_photo_returns_its_clip_beside_the_still():
    status = fixture("status_pictures.json")
    live = status["pic_infos"]["007a1b2cly1hq1bbbbbbbbj30u01hcnpd"]
    live.update({"type": "livephoto", "video": LIVE_CLIP, "fid": "000aBcDejx08q1bbbbbb0h04110000aaaa0k01"})
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(json=status)
        data = extract("https://weibo.com/6543210987/OzYx1AbCd").to_dict()
    assert len(data["images"]) == 3  # the still stays a picture
    [clip] = data["videos"]
    assert clip["url"] == LIVE_CLIP
    assert clip["mimeType"] == "video/quicktime"
    # The clip's own size is not in the answer: the still's 1080x2560 must not be passed off as the clip's.
    assert (clip["quality"], clip["width"], clip["height"]) == (None, None, None)
    assert clip["headers"]["Referer"] == "https://weibo.com/"
    assert data["duration"] == 0


def test_live_photo_without_its_direct_clip_uses_the_hd_player_link_target():
    status = fixture("status_pictures.json")
    status["pic_infos"]["007a1b2cly1hq1aaaaaaaaj31hc0u0qv5"].update({
        "type": "livephoto",
        "video_hd": "https://video.weibo.com/media/play?livephoto=https%3A%2F%2Fus.sinaimg.cn%2F001NTkDbjx08pk2h.mov"})
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(json=status)
        data = extract("https://weibo.com/6543210987/OzYx1AbCd").to_dict()
    assert [v["url"] for v in data["videos"]] == ["https://us.sinaimg.cn/001NTkDbjx08pk2h.mov"]


def test_a_desktop_post_that_cannot_be_normalised_falls_back_to_the_mobile_api():
    status = fixture("status_pictures.json")
    status["pic_ids"] = 7  # not a list: the post's pictures cannot be read from this answer
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(json=status)
        mobile = mock.get(MOBILE_URL).respond(json=fixture("mobile_status_pictures.json"))
        data = extract("https://weibo.com/6543210987/OzYx1AbCd").to_dict()
    assert mobile.called
    assert [i["url"] for i in data["images"]] == [
        "https://wx1.sinaimg.cn/large/007a1b2cly1hq1aaaaaaaaj31hc0u0qv5.jpg",
        "https://wx1.sinaimg.cn/large/007a1b2cly1hq1bbbbbbbbj30u01hcnpd.jpg",
        "https://wx1.sinaimg.cn/large/007a1b2cly1hq1ccccccccj32c03404qr.jpg",
    ]


@pytest.mark.parametrize("change", [
    {"pic_ids": 7},
    {"pic_ids": [["007a1b2cly1hq1aaaaaaaaj31hc0u0qv5"]]},
    {"mix_media_info": {"items": 3}},
    {"page_info": {"object_type": "video", "media_info": {"playback_list": 5}}},
    {"page_info": {"object_type": "video", "media_info": {"stream_url": "https://f.video.weibocdn.com/a.mp4",
                                                          "duration": "1:34"}}},
    {"page_info": {"object_type": "video", "media_info": {"stream_url": "https://f.video.weibocdn.com/a.mp4",
                                                          "duration": float("inf")}}},
])
def test_status_shapes_give_a_result_or_a_typed_error(change):
    from parsing.extractors.weibo import status_to_result

    status = {**fixture("status_pictures.json"), **change}
    try:
        result = status_to_result(status)
    except UpstreamFailure:
        return
    data = result.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data  # finite numbers only


def test_an_infinite_error_code_is_a_typed_failure():
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(200, text='{"ok": 0, "error_code": Infinity, "message": "?"}',
                                   headers={"Content-Type": "application/json"})
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://weibo.com/6543210987/OzYx1AbCd")
    assert caught.value.reason == "unavailable"


def test_video_post_whose_video_cannot_be_resolved_is_no_media_despite_its_cover():
    status = fixture("status_video.json")
    media_info = status["page_info"]["media_info"]
    for key in list(media_info):
        if key == "playback_list" or key.startswith(("mp4_", "stream_url", "h265", "hevc")):
            del media_info[key]
    assert status["page_info"]["page_pic"]  # the cover is known ...
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(json=status)
        with pytest.raises(ContentUnavailable) as caught:
            extract("https://m.weibo.cn/status/5090234567890123")
    assert caught.value.reason == "no_media"  # ... but it is not what was asked for


def test_a_picture_post_with_a_picture_missing_answers_the_others():
    status = fixture("status_pictures.json")
    status["pic_infos"]["007a1b2cly1hq1bbbbbbbbj30u01hcnpd"] = {"pic_id": "007a1b2cly1hq1bbbbbbbbj30u01hcnpd"}
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(json=status)
        data = extract("https://weibo.com/6543210987/OzYx1AbCd").to_dict()
    assert [i["url"].rsplit("/", 1)[1] for i in data["images"]] == [
        "007a1b2cly1hq1aaaaaaaaj31hc0u0qv5.jpg", "007a1b2cly1hq1ccccccccj32c03404qr.jpg"]


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_mobile_statuses_give_a_result_or_a_typed_error(data):
    from parsing.extractors.weibo import status_to_result
    from tests.support.mutations import assert_only_typed_errors, mutated

    try:
        status = data.draw(mutated(fixture("mobile_status_pictures.json")["data"]))
    except AttributeError:  # mutated() removing under a value it already replaced with None
        reject()
    assert_only_typed_errors(lambda: status_to_result(status, mobile=True))


def test_an_answer_nested_deeper_than_the_parser_goes_is_a_typed_failure():
    deep = '{"ok": 1, "idstr": "1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with respx.mock() as mock:
        mock.get(AJAX_URL).respond(200, text=deep, headers={"Content-Type": "application/json"})
        mock.get(MOBILE_URL).respond(200, text=deep, headers={"Content-Type": "application/json"})
        with pytest.raises(UpstreamFailure):
            extract("https://weibo.com/6543210987/OzYx1AbCd")
