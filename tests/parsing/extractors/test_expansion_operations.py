"""Short-link expansion for /live and /collection: the walk stops at the room or collection the link names."""

from __future__ import annotations

import pytest
import respx

from parsing.expansion import resolve
from parsing.extractors.base import UnsupportedLink
from parsing.recognition import recognize

REFLOW = "https://webcast.amemv.com/douyin/webcast/reflow/7318296342189919011"


@pytest.mark.parametrize("operation, short, location, kind, media_id", [
    ("live", "https://b23.tv/Lv3xYz9", "https://live.bilibili.com/21495945?broadcast_type=0&share_source=copy",
     "live", "21495945"),
    ("collection", "https://b23.tv/Co3xYz9", "https://space.bilibili.com/2142762/lists/3662502?type=season&spm=x",
     "season", "3662502"),
    ("collection", "https://b23.tv/Pt3xYz9", "https://m.bilibili.com/video/BV1Xy4y1k7Qa?p=2&share_source=copy",
     "parts", "BV1Xy4y1k7Qa"),
    ("collection", "https://v.douyin.com/iMix123/",
     "https://www.iesdouyin.com/share/mix/detail/7228425464914200635/?schema_type=24", "mix", "7228425464914200635"),
    ("live", "https://v.kuaishou.com/Lv2L9q", "https://live.kuaishou.com/u/3xgexgpig9gwwqa?cc=share_copylink",
     "live", "3xgexgpig9gwwqa"),
    # A Douyin live share link leads off douyin.com, to the app's share page on webcast.amemv.com (a room id).
    ("live", "https://v.douyin.com/iRNBho5q/",
     f"{REFLOW}?u_code=l1j9bkbd&with_sec_did=1&liveId=7318296342189919011&from=share&style=share", "room",
     "7318296342189919011"),
])
def test_a_short_link_resolves_to_the_room_or_collection_the_operation_serves(operation, short, location, kind,
                                                                              media_id):
    with respx.mock(assert_all_called=False) as mock:
        hop = mock.get(short).respond(302, headers={"Location": location})
        page = mock.get(location.split("?")[0])
        target = recognize(short, operation)
        assert target.supported and target.short
        found = resolve(target, operation)
    assert (found.supported, found.kind, found.id, found.short) == (True, kind, media_id, False)
    assert hop.call_count == 1 and page.call_count == 0


def test_a_short_link_to_a_post_is_not_a_room():
    with respx.mock(assert_all_called=False) as mock:
        mock.get("https://b23.tv/Ab3xYz9").respond(302, headers={"Location": "https://www.bilibili.com/bangumi/play/ep1"})
        mock.get("https://www.bilibili.com/bangumi/play/ep1").respond(200, html="<title>番剧</title>")
        with pytest.raises(UnsupportedLink) as caught:
            resolve(recognize("https://b23.tv/Ab3xYz9", "live"), "live")
    assert caught.value.reason == "unresolved_short_link"


def test_parse_still_stops_at_the_post_by_default():
    location = "https://www.bilibili.com/video/BV1Xy4y1k7Qa?p=2"
    with respx.mock() as mock:
        mock.get("https://b23.tv/Ab3xYz9").respond(302, headers={"Location": location})
        found = resolve(recognize("https://b23.tv/Ab3xYz9"))
    assert (found.kind, found.id, found.endpoint) == ("video", "BV1Xy4y1k7Qa", "parse")


def test_a_douyin_live_share_link_is_still_refused_off_the_platforms_hosts():
    with respx.mock(assert_all_called=False) as mock:
        mock.get("https://v.douyin.com/iRNBho5q/").respond(302, headers={
            "Location": "https://webcast.amemv.com.evil.example/douyin/webcast/reflow/7318296342189919011"})
        with pytest.raises(UnsupportedLink) as caught:
            resolve(recognize("https://v.douyin.com/iRNBho5q/", "live"), "live")
    assert caught.value.reason == "redirect_off_platform"


@pytest.mark.parametrize("location", ["https://live.douyin.com/745964462470?enter_from_merge=web_share",
                                      f"{REFLOW}?from=share"])
def test_parse_answers_a_short_link_to_either_douyin_room_page_alike(location):
    with respx.mock() as mock:
        mock.get("https://v.douyin.com/iRNBho5q/").respond(302, headers={"Location": location})
        room_page = mock.get(location.split("?")[0]).respond(200, html="<html><title>直播</title></html>")
        with pytest.raises(UnsupportedLink) as caught:
            resolve(recognize("https://v.douyin.com/iRNBho5q/"))
    # Not redirect_off_platform: /parse walks on to the room page, which names no post, as for live.douyin.com.
    assert caught.value.reason == "unresolved_short_link" and room_page.call_count == 1
