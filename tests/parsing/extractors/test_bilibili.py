"""Bilibili through the real yt-dlp extractors (video, bangumi, season), replaying recorded pages and APIs."""

from __future__ import annotations

import pytest
import respx

from parsing.expansion import resolve
from parsing.extractors.base import ContentUnavailable
from parsing.extractors.bilibili import BilibiliExtractor
from parsing.recognition import Recognition, recognize
from tests.support.ytdlp_replay import replay

BVID = "BV1Xy4y1k7Qa"
VIDEO_APIS = {
    "https://api.bilibili.com/x/player/pagelist?*": "bilibili/pagelist.json",
    "https://api.bilibili.com/x/web-interface/nav*": "bilibili/nav.json",
    "https://api.bilibili.com/x/player/wbi/playurl?*": "bilibili/playurl.json",
    "https://api.bilibili.com/x/player/wbi/v2?*": "bilibili/player_v2.json",
}
VIDEO = {f"https://www.bilibili.com/video/{BVID}/*": "bilibili/video_page.html", **VIDEO_APIS}
BANGUMI = {
    "https://www.bilibili.com/bangumi/play/ep733316": "bilibili/bangumi_page.html",
    "https://api.bilibili.com/pgc/player/web/v2/playurl?*": "bilibili/bangumi_playurl.json",
    "https://api.bilibili.com/pgc/view/web/season?*": "bilibili/bangumi_season.json",
}


def extract(link: str | Recognition, routes: dict):
    with replay(routes) as calls:
        return BilibiliExtractor().extract(recognize(link) if isinstance(link, str) else link), calls


def test_a_video_is_split_dash_video_and_audio_with_the_bilibili_referer():
    result, calls = extract(f"https://www.bilibili.com/video/{BVID}/?spm_id_from=333.1007", VIDEO)
    data = result.to_dict()
    assert (data["id"], data["url"], data["title"]) == (
        BVID, f"https://www.bilibili.com/video/{BVID}/", "十分钟看懂机械键盘轴体")
    assert data["thumbnail"].startswith("https://i0.hdslb.com/bfs/archive/")  # upgraded from http://
    assert data["duration"] == pytest.approx(183.456)
    assert data["author"] == {"name": "键盘实验室", "id": "20260001", "url": "https://space.bilibili.com/20260001"}
    assert [(v["quality"], v["width"], v["height"], v["hasAudio"], v["source"]) for v in data["videos"]] == [
        ("1080p", 1920, 1080, False, "dash"), ("720p", 1280, 720, False, "dash"), ("480p", 852, 480, False, "dash")]
    assert [(a["bitrate"], a["source"], a["mimeType"]) for a in data["audios"]] == [
        (319112, "dash", "audio/mp4"), (132261, "dash", "audio/mp4")]
    assert all(".bilivideo.com/" in item["url"] and item["headers"]["Referer"].startswith("https://www.bilibili.com/")
               for item in data["videos"] + data["audios"])
    assert calls[0].url == f"https://www.bilibili.com/video/{BVID}/"


@pytest.mark.parametrize("link", [
    f"https://m.bilibili.com/video/{BVID}?share_source=copy",
    f"https://www.bilibili.com/s/video/{BVID}",
    f"https://www.bilibili.com/list/1234567?bvid={BVID}&oid=170001234",
    f"【十分钟看懂机械键盘轴体-哔哩哔哩】 https://www.bilibili.com/video/{BVID}/",
])
def test_mobile_share_and_list_links_read_the_www_video_page(link):
    result, calls = extract(link, VIDEO)
    assert result.id == BVID and len(result.videos) == 3
    assert calls[0].url == f"https://www.bilibili.com/video/{BVID}/"


def test_an_av_link_is_read_from_its_page():
    result, calls = extract("https://www.bilibili.com/video/av170001234/",
                            {"https://www.bilibili.com/video/av170001234/": "bilibili/video_page.html", **VIDEO_APIS})
    assert result.id == BVID and result.videos


def test_a_part_of_a_multi_part_video_gives_that_part_only():
    routes = {**VIDEO, f"https://www.bilibili.com/video/{BVID}/*": "bilibili/parts_page.html",
              "https://api.bilibili.com/x/player/pagelist?*": "bilibili/parts_pagelist.json"}
    result, calls = extract(f"https://www.bilibili.com/video/{BVID}/?p=3&vd_source=abc", routes)
    assert calls[0].url == f"https://www.bilibili.com/video/{BVID}/?p=3"
    assert result.id == f"{BVID}_p3" and result.title.endswith("p03 静音红轴")
    playurl = next(c for c in calls if "/wbi/playurl" in c.url)
    assert "cid=1300012347" in playurl.url


def test_a_bangumi_episode_comes_from_the_pgc_apis():
    result, calls = extract("https://www.bilibili.com/bangumi/play/ep733316?from_spmid=666.25", BANGUMI)
    data = result.to_dict()
    assert (data["id"], data["title"]) == ("733316", "1 启程")
    assert [v["quality"] for v in data["videos"]] == ["1080p", "720p"] and len(data["audios"]) == 2
    assert [c.url.split("?")[0] for c in calls] == [
        "https://www.bilibili.com/bangumi/play/ep733316", "https://api.bilibili.com/pgc/player/web/v2/playurl",
        "https://api.bilibili.com/pgc/view/web/season"]


def test_a_season_link_extracts_its_first_episode_only():
    routes = {"https://www.bilibili.com/bangumi/play/ss46244": "bilibili/season_page.html",
              "https://api.bilibili.com/pgc/web/season/section?*": "bilibili/season_section.json", **BANGUMI}
    result, calls = extract("https://www.bilibili.com/bangumi/play/ss46244", routes)
    assert result.videos and [v.quality for v in result.videos] == ["1080p", "720p"]
    assert not any("ep733317" in c.url for c in calls)


@pytest.mark.parametrize("page, reason", [
    ("bilibili/deleted_page.html", "deleted"),
    ("bilibili/login_page.html", "login_required"),
])
def test_deleted_and_login_walled_videos_say_why(page, reason):
    with pytest.raises(ContentUnavailable) as caught:
        extract(f"https://www.bilibili.com/video/{BVID}/", {**VIDEO, f"https://www.bilibili.com/video/{BVID}/*": page})
    assert caught.value.reason == reason


def test_a_region_blocked_episode_says_so():
    routes = {**BANGUMI, "https://www.bilibili.com/bangumi/play/ep733316": "bilibili/bangumi_region_page.html"}
    with pytest.raises(ContentUnavailable) as caught:
        extract("https://www.bilibili.com/bangumi/play/ep733316", routes)
    assert caught.value.reason == "region_blocked"


def test_a_b23_short_link_is_expanded_then_extracted():
    with respx.mock() as mock:
        mock.get("https://b23.tv/Ab3xYz9").respond(
            302, headers={"Location": f"https://www.bilibili.com/video/{BVID}?share_medium=android&share_source=copy"})
        target = resolve(recognize("【十分钟看懂机械键盘轴体】 https://b23.tv/Ab3xYz9"))
    assert (target.kind, target.id) == ("video", BVID)
    result, _ = extract(target, VIDEO)
    assert result.id == BVID and len(result.audios) == 2
