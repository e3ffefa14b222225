"""Bilibili /live (rooms) and /collection (parts, seasons, series) through its JSON APIs, replayed with respx."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.bilibili import BilibiliExtractor
from parsing.recognition import recognize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bilibili"
ROOM_INFO = "https://api.live.bilibili.com/room/v1/Room/get_info"
PLAY_INFO = "https://api.live.bilibili.com/xlive/web-room/v2/index/getRoomPlayInfo"
VIEW = "https://api.bilibili.com/x/web-interface/view"
SEASON = "https://api.bilibili.com/x/polymer/web-space/seasons_archives_list"
SERIES = "https://api.bilibili.com/x/series/archives"
SERIES_META = "https://api.bilibili.com/x/series/series"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def live(link: str = "https://live.bilibili.com/21495945?live_from=85001"):
    return BilibiliExtractor().live(recognize(link, "live"))


def collection(link: str, page: int = 1):
    return BilibiliExtractor().collection(recognize(link, "collection"), page)


def test_a_live_room_gives_flv_and_hls_streams_avc_first_with_the_live_referer():
    with respx.mock() as mock:
        info = mock.get(ROOM_INFO).respond(json=fixture("live_room_info.json"))
        play = mock.get(PLAY_INFO).respond(json=fixture("live_play_info.json"))
        data = live().to_dict()
    assert info.calls.last.request.url.params["room_id"] == "21495945"
    assert play.calls.last.request.url.params["room_id"] == "21495945"
    assert (data["platform"], data["id"], data["url"]) == ("bilibili", "21495945", "https://live.bilibili.com/21495945")
    assert data["title"] == "【歌回】今晚唱到十二点"
    assert data["thumbnail"].startswith("https://i0.hdslb.com/bfs/live/new_room_cover/")
    assert data["author"] == {"name": None, "id": "672328094", "url": "https://space.bilibili.com/672328094"}
    streams = [(s["format"], s["quality"], s["url"].split("?")[0]) for s in data["streams"]]
    base = "live-bvc/371520/live_672328094_bs_5183029"
    assert streams == [
        ("flv", "原画", f"https://cn-gddg-ct-01-01.bilivideo.com/{base}.flv"),
        ("flv", "原画", f"https://d1--cn-gotcha03.bilivideo.com/{base}.flv"),
        ("hls", "原画", f"https://cn-gddg-ct-01-01.bilivideo.com/{base}/index.m3u8"),  # avc before hevc
        ("hls", "原画", f"https://cn-gddg-ct-01-01.bilivideo.com/{base}_prohevc/index.m3u8"),
        ("hls", "原画", f"https://cn-gddg-ct-01-01.bilivideo.com/{base}/index-fmp4.m3u8"),  # the fmp4 rendition
    ]
    assert "sign=" in data["streams"][0]["url"]
    headers = data["streams"][0]["headers"]
    assert headers["Referer"] == "https://live.bilibili.com/" and "Mozilla/5.0" in headers["User-Agent"]


def test_an_offline_room_is_offline_without_asking_for_streams():
    with respx.mock(assert_all_called=False) as mock:
        mock.get(ROOM_INFO).respond(json=fixture("live_room_offline.json"))
        play = mock.get(PLAY_INFO)
        with pytest.raises(ContentUnavailable) as caught:
            live()
    assert caught.value.reason == "offline" and play.call_count == 0


@pytest.mark.parametrize("room, play, error, reason", [
    ("live_room_missing.json", None, ContentUnavailable, "deleted"),
    ("need_login.json", None, ContentUnavailable, "login_required"),
    ("region.json", None, ContentUnavailable, "region_blocked"),
    ("risk_control.json", None, UpstreamFailure, "upstream_error"),
    ("live_room_info.json", "live_play_encrypted.json", ContentUnavailable, "private"),
    ("live_room_info.json", "need_login.json", ContentUnavailable, "login_required"),
])
def test_rooms_that_cannot_be_shown_say_why(room, play, error, reason):
    with respx.mock(assert_all_called=False) as mock:
        mock.get(ROOM_INFO).respond(json=fixture(room))
        if play:
            mock.get(PLAY_INFO).respond(json=fixture(play))
        with pytest.raises(error) as caught:
            live()
    assert caught.value.reason == reason


@pytest.mark.parametrize("body", [
    {"code": 0, "data": {"live_status": "1"}},
    {"code": 0, "data": []},
    {"code": "0"},
    ["not", "an", "object"],
])
def test_a_malformed_room_answer_is_an_upstream_failure(body):
    with respx.mock() as mock:
        mock.get(ROOM_INFO).respond(json=body)
        with pytest.raises(UpstreamFailure):
            live()


def test_malformed_streams_are_an_upstream_failure_or_no_media():
    broken = fixture("live_play_info.json")
    broken["data"]["playurl_info"]["playurl"]["stream"] = [{"protocol_name": "http_stream", "format": [{"codec": 5}]}]
    with respx.mock() as mock:
        mock.get(ROOM_INFO).respond(json=fixture("live_room_info.json"))
        mock.get(PLAY_INFO).respond(json=broken)
        with pytest.raises(ContentUnavailable) as caught:
            live()
    assert caught.value.reason == "no_media"
    with respx.mock() as mock:
        mock.get(ROOM_INFO).respond(200, text="<html>412 Precondition</html>")
        with pytest.raises(UpstreamFailure):
            live()


def test_a_room_that_times_out_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(ROOM_INFO).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            live()


# --- /collection ---------------------------------------------------------------------------------------------

PARTS = "https://www.bilibili.com/video/BV1Xy4y1k7Qa/?p=3&spm_id_from=333.1"


def test_a_multi_part_video_lists_its_parts_fifty_a_page_each_a_link_parse_accepts():
    with respx.mock() as mock:
        route = mock.get(VIEW).respond(json=fixture("view_parts.json"))
        first = collection(PARTS).to_dict()
        second = collection(PARTS, 2).to_dict()
    assert route.calls.last.request.url.params["bvid"] == "BV1Xy4y1k7Qa"
    assert (first["total"], first["page"], first["nextPage"], len(first["items"])) == (62, 1, 2, 50)
    assert (second["page"], second["nextPage"], len(second["items"])) == (2, None, 12)
    assert first["title"] == "【合集】线性代数 全62讲" and first["thumbnail"].startswith("https://i1.hdslb.com/")
    assert first["author"] == {"name": "老戴在此", "id": "2142762", "url": "https://space.bilibili.com/2142762"}
    assert first["items"][2] == {
        "index": 3, "id": "100000003", "title": "P3 第3讲", "url": "https://www.bilibili.com/video/BV1Xy4y1k7Qa?p=3",
        "duration": 603, "thumbnail": "https://i0.hdslb.com/bfs/storyff/n202611300003_firsti.jpg"}
    assert [i["index"] for i in second["items"]] == list(range(51, 63))
    for item in first["items"] + second["items"]:
        target = recognize(item["url"])
        assert (target.supported, target.id) == (True, "BV1Xy4y1k7Qa")


def test_an_av_link_asks_by_aid():
    with respx.mock() as mock:
        route = mock.get(VIEW).respond(json=fixture("view_parts.json"))
        collection("https://www.bilibili.com/video/av170001")
    assert route.calls.last.request.url.params["aid"] == "170001"


def test_a_page_past_the_end_is_no_such_page():
    with respx.mock() as mock:
        mock.get(VIEW).respond(json=fixture("view_parts.json"))
        with pytest.raises(ContentUnavailable) as caught:
            collection(PARTS, 3)
    assert caught.value.reason == "no_such_page"


@pytest.mark.parametrize("name, error, reason", [
    ("view_deleted.json", ContentUnavailable, "deleted"),
    ("view_private.json", ContentUnavailable, "private"),
    ("view_login.json", ContentUnavailable, "login_required"),
    ("region.json", ContentUnavailable, "region_blocked"),
    ("risk_control.json", UpstreamFailure, "upstream_error"),
])
def test_videos_that_cannot_be_listed_say_why(name, error, reason):
    with respx.mock() as mock:
        mock.get(VIEW).respond(json=fixture(name))
        with pytest.raises(error) as caught:
            collection(PARTS)
    assert caught.value.reason == reason


@pytest.mark.parametrize("mutate", [
    lambda d: d["data"].pop("bvid"),
    lambda d: d["data"]["pages"][0].pop("cid"),
    lambda d: d["data"].__setitem__("pages", "many"),
])
def test_a_malformed_view_is_a_typed_error(mutate):
    body = fixture("view_parts.json")
    mutate(body)
    with respx.mock() as mock:
        mock.get(VIEW).respond(json=body)
        with pytest.raises((UpstreamFailure, ContentUnavailable)):
            collection(PARTS)


def test_a_season_lists_its_archives_page_by_page():
    link = "https://space.bilibili.com/2142762/lists/3662502?type=season"
    with respx.mock() as mock:
        route = mock.get(SEASON)
        route.side_effect = [httpx.Response(200, json=fixture("season_page1.json")),
                             httpx.Response(200, json=fixture("season_page2.json"))]
        first = collection(link).to_dict()
        second = collection(link, 2).to_dict()
    params = [dict(c.request.url.params) for c in route.calls]
    assert params == [{"mid": "2142762", "season_id": "3662502", "page_num": "1", "page_size": "50"},
                      {"mid": "2142762", "season_id": "3662502", "page_num": "2", "page_size": "50"}]
    assert (first["total"], first["nextPage"], len(first["items"])) == (62, 2, 50)
    assert (second["nextPage"], [i["index"] for i in second["items"]][:2]) == (None, [51, 52])
    assert first["title"] == "合集·《黑神话悟空》流程解说"
    assert first["url"] == "https://space.bilibili.com/2142762/channel/collectiondetail?sid=3662502"
    assert first["items"][0]["url"] == "https://www.bilibili.com/video/BV1Ab4y1C001"
    assert recognize(first["items"][0]["url"]).supported


def test_a_season_page_past_the_end_is_no_such_page_and_an_empty_season_no_media():
    link = "https://space.bilibili.com/2142762/channel/collectiondetail?sid=3662502"
    with respx.mock() as mock:
        mock.get(SEASON).respond(json=fixture("season_page1.json"))
        with pytest.raises(ContentUnavailable) as caught:
            collection(link, 3)
    assert caught.value.reason == "no_such_page"
    empty = fixture("season_page1.json")
    empty["data"].update(archives=[], page={"page_num": 1, "page_size": 50, "total": 0})
    with respx.mock() as mock:
        mock.get(SEASON).respond(json=empty)
        with pytest.raises(ContentUnavailable) as caught:
            collection(link)
    assert caught.value.reason == "no_media"


def test_a_series_lists_its_archives_with_its_name():
    with respx.mock() as mock:
        archives = mock.get(SERIES).respond(json=fixture("series_archives.json"))
        mock.get(SERIES_META).respond(json=fixture("series_meta.json"))
        data = collection("https://space.bilibili.com/1958703906/channel/seriesdetail?sid=547718&ctype=0").to_dict()
    assert archives.calls.last.request.url.params["series_id"] == "547718"
    assert (data["title"], data["total"], data["nextPage"], len(data["items"])) == ("直播回放", 3, None, 3)


def test_a_series_whose_name_cannot_be_read_is_still_listed():
    with respx.mock() as mock:
        mock.get(SERIES).respond(json=fixture("series_archives.json"))
        mock.get(SERIES_META).respond(json=fixture("risk_control.json"))
        data = collection("https://space.bilibili.com/1958703906/lists/547718?type=series").to_dict()
    assert (data["title"], len(data["items"])) == ("", 3)


@pytest.mark.parametrize("answer", [
    httpx.Response(200, json={"code": 0, "data": {"archives": []}}),  # no page block: size unknown
    httpx.Response(200, text="not json"),
    httpx.Response(502),
])
def test_a_malformed_or_failed_season_answer_is_an_upstream_failure(answer):
    with respx.mock() as mock:
        mock.get(SEASON).mock(return_value=answer)
        with pytest.raises(UpstreamFailure):
            collection("https://space.bilibili.com/2142762/lists/3662502")


def test_a_season_that_times_out_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(SEASON).mock(side_effect=httpx.ConnectTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            collection("https://space.bilibili.com/2142762/lists/3662502")


def test_the_extractor_says_which_operations_it_serves():
    assert all(BilibiliExtractor.supports(op) for op in ("parse", "live", "collection"))
