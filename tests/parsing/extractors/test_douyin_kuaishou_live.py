"""Douyin rooms and mixes, Kuaishou rooms: /live and /collection from page- and API-shaped fixtures (respx)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.douyin import LIVE_ENTER, LIVE_HOME, MIX_LIST, ROOM_REFLOW, DouyinExtractor
from parsing.extractors.kuaishou import KuaishouExtractor
from parsing.recognition import recognize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WEB_RID = "745964462470"
ROOM_ID = "7318296342189919011"  # a room id: what the app's share page names, another number than the web id
ROOM_PAGE = f"https://webcast.amemv.com/douyin/webcast/reflow/{ROOM_ID}"
MIX = "7228425464914200635"
KS_ROOM = "https://live.kuaishou.com/u/3xgexgpig9gwwqa"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def douyin_live():
    share = f"正在直播 https://live.douyin.com/{WEB_RID}?enter_from_merge=web_share"
    return DouyinExtractor().live(recognize(share, "live"))


def douyin_mix(page: int = 1):
    return DouyinExtractor().collection(recognize(f"https://www.douyin.com/collection/{MIX}", "collection"), page)


def kuaishou_live():
    return KuaishouExtractor().live(recognize(KS_ROOM, "live"))


def test_a_douyin_room_gives_its_flv_and_hls_pull_addresses_best_first():
    with respx.mock() as mock:
        home = mock.get(LIVE_HOME).respond(200, html="<html></html>", headers={"Set-Cookie": "ttwid=1%7Cabc; Path=/"})
        enter = mock.get(url__startswith=LIVE_ENTER).respond(200, text=fixture("douyin/live_enter.json"))
        data = douyin_live().to_dict()
    assert home.call_count == 1
    request = enter.calls.last.request
    assert request.url.params["web_rid"] == WEB_RID and "ttwid=1%7Cabc" in request.headers["Cookie"]
    assert (data["platform"], data["id"], data["url"]) == ("douyin", WEB_RID, f"https://live.douyin.com/{WEB_RID}")
    assert data["title"] == "深夜电台 陪你聊天" and data["thumbnail"].startswith("https://p3-webcast.douyinpic.com/")
    assert data["author"]["name"] == "夜猫子小北"
    assert [(s["format"], s["quality"]) for s in data["streams"]] == [
        ("flv", "FULL_HD1"), ("flv", "HD1"), ("flv", "SD1"), ("hls", "FULL_HD1"), ("hls", "HD1")]
    assert data["streams"][3]["url"].split("?")[0].endswith("_or4/index.m3u8")
    assert data["streams"][0]["headers"]["Referer"] == "https://live.douyin.com/"


@pytest.mark.parametrize("name, error, reason", [
    ("douyin/live_enter_offline.json", ContentUnavailable, "offline"),
    ("douyin/live_enter_missing.json", ContentUnavailable, "deleted"),
    ("douyin/live_enter_login.json", ContentUnavailable, "login_required"),
])
def test_a_douyin_room_that_cannot_be_watched_says_why(name, error, reason):
    with respx.mock() as mock:
        mock.get(LIVE_HOME).respond(200, html="")
        mock.get(url__startswith=LIVE_ENTER).respond(200, text=fixture(name))
        with pytest.raises(error) as caught:
            douyin_live()
    assert caught.value.reason == reason


@pytest.mark.parametrize("answer", [
    httpx.Response(200, text=""),  # what an unsigned or blocked request gets
    httpx.Response(200, json={"data": {"data": [{"title": "no status"}]}, "status_code": 0}),
    httpx.Response(200, json={"data": "x", "status_code": 0}),
    httpx.Response(200, json={"status_code": 10011, "status_msg": "too frequent"}),
    httpx.Response(503),
])
def test_a_malformed_douyin_room_answer_is_an_upstream_failure(answer):
    with respx.mock() as mock:
        mock.get(LIVE_HOME).respond(200, html="")
        mock.get(url__startswith=LIVE_ENTER).mock(return_value=answer)
        with pytest.raises(UpstreamFailure):
            douyin_live()


def test_a_douyin_room_that_times_out_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(LIVE_HOME).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            douyin_live()


# --- Douyin rooms by room id (the app's share page) -------------------------------------------------------


def douyin_room():
    link = f"{ROOM_PAGE}?u_code=l1j9bkbd&with_sec_did=1&liveId={ROOM_ID}&from=share&style=share"
    return DouyinExtractor().live(recognize(f"9- 长按复制此条消息，打开抖音搜索，查看TA的直播。 {link}", "live"))


def test_a_douyin_room_by_room_id_gives_its_flv_and_hls_pull_addresses_best_first():
    with respx.mock() as mock:
        reflow = mock.get(url__startswith=ROOM_REFLOW).respond(200, text=fixture("douyin/reflow_room.json"))
        data = douyin_room().to_dict()
    params = reflow.calls.last.request.url.params
    assert (params["room_id"], params["type_id"], params["live_id"], params["app_id"]) == (ROOM_ID, "0", "1", "1128")
    assert "web_rid" not in params and reflow.call_count == 1  # no visit to live.douyin.com: the room id suffices
    assert (data["platform"], data["id"], data["url"]) == ("douyin", ROOM_ID, ROOM_PAGE)
    assert data["title"] == "周末手作 陪你做陶艺"
    assert data["thumbnail"] == f"https://p11-webcast.douyinpic.com/img/webcast/{ROOM_ID}~tplv-obj.image"
    assert data["author"] == {"name": "泥巴工坊阿青", "id": "92837461502", "url":
                              "https://www.douyin.com/user/MS4wLjABAAAAq7W3e5R1t9Y2u4I6o8P0a1S3d5F7g9H2j4K6l8Z0x2C"}
    assert [(s["format"], s["quality"]) for s in data["streams"]] == [
        ("flv", "FULL_HD1"), ("flv", "HD1"), ("flv", "SD1"), ("flv", "SD2"), ("hls", "FULL_HD1"), ("hls", "HD1")]
    assert data["streams"][1]["url"].split("?")[0].endswith("_hd.flv")
    assert data["streams"][5]["url"].split("?")[0].endswith("_hd/index.m3u8")
    assert all(s["headers"]["Referer"] == "https://live.douyin.com/" for s in data["streams"])


def test_a_douyin_room_without_pull_maps_falls_back_to_its_single_addresses():
    room = json.loads(fixture("douyin/reflow_room.json"))
    pull = room["data"]["room"]["stream_url"]
    pull["flv_pull_url"], pull["hls_pull_url_map"] = {}, {"HD1": "rtmp://not-http/x"}
    with respx.mock() as mock:
        mock.get(url__startswith=ROOM_REFLOW).respond(200, json=room)
        streams = douyin_room().streams
    assert [(s.format, s.quality, s.url) for s in streams] == [
        ("flv", None, pull["rtmp_pull_url"]), ("hls", None, pull["hls_pull_url"])]


@pytest.mark.parametrize("answer, reason", [
    (fixture("douyin/reflow_room_ended.json"), "offline"),  # status 4: the stream ended
    (fixture("douyin/reflow_room_missing.json"), "deleted"),  # no room of this id
    (json.dumps({"data": {"room": {}, "prompts": "直播间不存在"}, "status_code": 0}), "deleted"),
    (json.dumps({"data": {"prompts": "请登录后观看"}, "status_code": 4001038, "status_msg": "请先登录"}),
     "login_required"),
])
def test_a_douyin_room_by_room_id_that_cannot_be_watched_says_why(answer, reason):
    with respx.mock() as mock:
        mock.get(url__startswith=ROOM_REFLOW).respond(200, text=answer)
        with pytest.raises(ContentUnavailable) as caught:
            douyin_room()
    assert caught.value.reason == reason


def test_a_live_douyin_room_without_any_pull_address_is_no_media():
    room = json.loads(fixture("douyin/reflow_room.json"))
    room["data"]["room"]["stream_url"] = {"flv_pull_url": {"HD1": None}, "hls_pull_url": ""}
    with respx.mock() as mock:
        mock.get(url__startswith=ROOM_REFLOW).respond(200, json=room)
        with pytest.raises(ContentUnavailable) as caught:
            douyin_room()
    assert caught.value.reason == "no_media"


@pytest.mark.parametrize("answer", [
    httpx.Response(200, text=""),  # what an unsigned or blocked request gets
    httpx.Response(200, text="<html>验证码</html>"),
    httpx.Response(200, json={"data": {"room": {"title": "no status", "stream_url": {}}}, "status_code": 0}),
    httpx.Response(200, json={"data": {"room": {"status": "live"}}, "status_code": 0}),
    httpx.Response(200, json={"data": ["x"], "status_code": 0}),
    httpx.Response(200, json={"status_code": 0}),
    httpx.Response(200, json={"status_code": 10011, "status_msg": "too frequent"}),
    httpx.Response(502),
])
def test_a_malformed_douyin_room_by_room_id_answer_is_an_upstream_failure(answer):
    with respx.mock() as mock:
        mock.get(url__startswith=ROOM_REFLOW).mock(return_value=answer)
        with pytest.raises(UpstreamFailure):
            douyin_room()


def test_a_douyin_room_by_room_id_that_times_out_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(url__startswith=ROOM_REFLOW).mock(side_effect=httpx.ConnectTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            douyin_room()


def _mix_route(mock, *names):
    route = mock.get(url__startswith=MIX_LIST)
    route.side_effect = [httpx.Response(200, text=fixture(f"douyin/{n}.json")) for n in names]
    return route


def test_a_douyin_mix_page_gathers_fifty_posts_over_the_lists_cursor():
    with respx.mock() as mock:
        route = _mix_route(mock, "mix_batch1", "mix_batch2", "mix_batch3")
        data = douyin_mix().to_dict()
    assert [c.request.url.params["cursor"] for c in route.calls] == ["0", "20", "40"]
    assert all(c.request.url.params["mix_id"] == MIX for c in route.calls)
    assert (data["total"], data["page"], data["nextPage"], len(data["items"])) == (45, 1, None, 45)
    assert (data["title"], data["id"], data["url"]) == ("三分钟电影合集", MIX, f"https://www.douyin.com/collection/{MIX}")
    first, second = data["items"][:2]
    assert first == {"index": 1, "id": "7228425464914200001", "title": "第1集 | 三分钟看完一部电影",
                     "url": "https://www.douyin.com/video/7228425464914200001", "duration": 180.001,
                     "thumbnail": "https://p3-sign.douyinpic.com/tos-cn-p-0015/cover1~tplv-dy-cropcenter:323:430.jpeg"}
    assert second["url"] == "https://www.douyin.com/note/7228425464914200002" and second["duration"] is None
    assert all(recognize(item["url"]).supported for item in data["items"])


def test_a_douyin_mix_page_past_the_end_is_no_such_page():
    with respx.mock() as mock:
        route = _mix_route(mock, "mix_empty")
        with pytest.raises(ContentUnavailable) as caught:
            douyin_mix(3)
    assert caught.value.reason == "no_such_page" and route.calls.last.request.url.params["cursor"] == "100"


@pytest.mark.parametrize("name, reason", [("mix_empty", "deleted"), ("mix_private", "private")])
def test_a_douyin_mix_that_cannot_be_listed_says_why(name, reason):
    with respx.mock() as mock:
        _mix_route(mock, name)
        with pytest.raises(ContentUnavailable) as caught:
            douyin_mix()
    assert caught.value.reason == reason


@pytest.mark.parametrize("answer", [
    httpx.Response(200, text=""),
    httpx.Response(200, json={"status_code": 0, "aweme_list": [{"aweme_id": "1"}], "has_more": 0}),  # no cursor
    httpx.Response(200, json=["x"]),
])
def test_a_malformed_douyin_mix_answer_is_an_upstream_failure(answer):
    with respx.mock() as mock:
        mock.get(url__startswith=MIX_LIST).mock(return_value=answer)
        with pytest.raises(UpstreamFailure):
            douyin_mix()


def test_a_douyin_mix_that_times_out_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(url__startswith=MIX_LIST).mock(side_effect=httpx.ConnectTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            douyin_mix()


# --- Kuaishou ------------------------------------------------------------------------------------------------


def test_a_kuaishou_room_gives_its_flv_renditions():
    with respx.mock() as mock:
        mock.get(KS_ROOM).respond(200, html=fixture("kuaishou/live_room.html"))
        data = kuaishou_live().to_dict()
    assert (data["platform"], data["id"], data["title"]) == ("kuaishou", "Zb3qL9xC2vE", "周末夜聊 来唠嗑")
    assert data["author"] == {"name": "小北夜聊", "id": "3xgexgpig9gwwqa",
                              "url": "https://www.kuaishou.com/profile/3xgexgpig9gwwqa"}
    assert [(s["format"], s["quality"]) for s in data["streams"]] == [("flv", "蓝光 8M"), ("flv", "高清")]
    assert data["streams"][0]["url"].startswith("https://hw-pull.kwailive.com/gifshow/")
    assert data["streams"][0]["headers"]["Referer"] == "https://live.kuaishou.com/"


@pytest.mark.parametrize("name, reason", [
    ("live_room_offline.html", "offline"),
    ("live_room_missing.html", "deleted"),
    ("live_room_login.html", "login_required"),
])
def test_a_kuaishou_room_that_cannot_be_watched_says_why(name, reason):
    with respx.mock() as mock:
        mock.get(KS_ROOM).respond(200, html=fixture(f"kuaishou/{name}"))
        with pytest.raises(ContentUnavailable) as caught:
            kuaishou_live()
    assert caught.value.reason == reason


@pytest.mark.parametrize("page", [
    fixture("kuaishou/captcha.html"),
    "<script>window.__INITIAL_STATE__={\"liveroom\":{\"playList\":[]}};</script>",
    "<script>window.__INITIAL_STATE__={\"liveroom\":{\"playList\":[{\"isLiving\":true,\"liveStream\":7}]}};</script>",
    "<script>window.__INITIAL_STATE__={broken;</script>",
])
def test_a_malformed_kuaishou_room_page_is_an_upstream_failure(page):
    with respx.mock() as mock:
        mock.get(KS_ROOM).respond(200, html=page)
        with pytest.raises(UpstreamFailure):
            kuaishou_live()


def test_a_kuaishou_room_that_times_out_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(KS_ROOM).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            kuaishou_live()


def test_the_fixtures_are_what_the_platforms_send():
    assert json.loads(fixture("douyin/live_enter.json"))["data"]["data"][0]["status"] == 2
    assert json.loads(fixture("douyin/reflow_room.json"))["data"]["room"]["id_str"] == ROOM_ID
    assert DouyinExtractor.supports("live") and DouyinExtractor.supports("collection")
    assert KuaishouExtractor.supports("live") and not KuaishouExtractor.supports("collection")
