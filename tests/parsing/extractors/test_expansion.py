"""Short-link expansion: each platform's share-link host, redirects followed only while on the platform."""

from __future__ import annotations

import httpx
import pytest
import respx

from parsing.expansion import MAX_HOPS, resolve
from parsing.extractors.base import UnsupportedLink, UpstreamFailure, UpstreamTimeout
from parsing.recognition import recognize


def expand(text: str):
    target = recognize(text)
    assert target.short, target
    return resolve(target)


@pytest.mark.parametrize("short, location, platform, kind, media_id", [
    ("https://vm.tiktok.com/ZMhvqKxY7/",
     "https://www.tiktok.com/@sunny.kitchen/video/7301234567890123456?_t=8abc&_r=1",
     "tiktok", "video", "7301234567890123456"),
    ("https://vt.tiktok.com/ZSabc123/",
     "https://www.tiktok.com/@market.days/photo/7309876543210987654?_r=1",
     "tiktok", "photo", "7309876543210987654"),
    ("https://v.douyin.com/iAbC123/",
     "https://www.iesdouyin.com/share/video/7301111111111111111/?region=CN&mid=7300000000000000000",
     "douyin", "video", "7301111111111111111"),
    ("https://xhslink.com/a/AbCdEf12",
     "https://www.xiaohongshu.com/discovery/item/65a1b2c3d4e5f6a7b8c9d0e1?app_platform=ios&xsec_token=ABxyz%3D"
     "&xsec_source=app_share",
     "xiaohongshu", "note", "65a1b2c3d4e5f6a7b8c9d0e1"),
    ("https://b23.tv/Ab3xYz9",
     "https://www.bilibili.com/video/BV1Xy4y1k7Qa?share_medium=android&share_source=copy",
     "bilibili", "video", "BV1Xy4y1k7Qa"),
    ("https://v.kuaishou.com/Jk2L9q",
     "https://v.m.chenzhongtech.com/fw/photo/3xk8zqf5m2a9wce?cc=share_copylink&fid=1",
     "kuaishou", "video", "3xk8zqf5m2a9wce"),
    ("https://t.cn/A6xYzAbC",
     "https://m.weibo.cn/status/4987654321098765",
     "weibo", "post", "4987654321098765"),
    ("https://t.co/AbCdEf123",
     "https://x.com/someone/status/1790000000000000001",
     "twitter", "post", "1790000000000000001"),
    ("https://www.instagram.com/share/reel/BAdEf12345",
     "https://www.instagram.com/reel/C1a2B3c4D5e/?igsh=MWxhY2Vy",
     "instagram", "reel", "C1a2B3c4D5e"),
])
def test_each_platforms_short_link_resolves_to_its_post(short, location, platform, kind, media_id):
    with respx.mock(assert_all_called=False) as mock:
        hop = mock.get(short).respond(302, headers={"Location": location})
        post = mock.get(location.split("?")[0])  # never fetched: the redirect already names the post
        target = expand(f"look at this {short} !")
    assert (target.supported, target.platform, target.kind, target.id) == (True, platform, kind, media_id)
    assert hop.call_count == 1 and post.call_count == 0


def test_the_xiaohongshu_token_survives_expansion():
    location = "https://www.xiaohongshu.com/discovery/item/65a1b2c3d4e5f6a7b8c9d0e1?xsec_token=ABxyz%3D&foo=1"
    with respx.mock() as mock:
        mock.get("https://xhslink.com/a/AbCdEf12").respond(307, headers={"Location": location})
        target = expand("https://xhslink.com/a/AbCdEf12")
    assert target.url.endswith("?xsec_token=ABxyz%3D")


def test_several_hops_on_the_platform_are_followed():
    with respx.mock() as mock:
        mock.get("https://v.kuaishou.com/Jk2L9q").respond(302, headers={"Location": "https://www.kuaishou.com/f/X8aBcD"})
        mock.get("https://www.kuaishou.com/f/X8aBcD").respond(
            302, headers={"Location": "/short-video/3xk8zqf5m2a9wce?fid=1"})
        target = expand("https://v.kuaishou.com/Jk2L9q")
    assert (target.kind, target.id) == ("video", "3xk8zqf5m2a9wce")


@pytest.mark.parametrize("short, elsewhere", [
    ("https://b23.tv/Ab3xYz9", "https://evil.example.com/steal"),
    ("https://xhslink.com/a/AbCdEf12", "https://www.douyin.com/video/7301111111111111111"),  # another platform
    ("https://t.cn/A6xYzAbC", "https://www.tiktok.com/@u/video/7301234567890123456"),  # t.cn belongs to Weibo
    ("https://vm.tiktok.com/ZMhvqKxY7/", "http://169.254.169.254/latest/meta-data/"),
])
def test_a_redirect_off_the_platform_is_refused_and_never_fetched(short, elsewhere):
    with respx.mock(assert_all_called=False) as mock:
        mock.get(short).respond(301, headers={"Location": elsewhere})
        off = mock.get(elsewhere)
        with pytest.raises(UnsupportedLink) as caught:
            expand(short)
    assert caught.value.reason == "redirect_off_platform" and off.call_count == 0


def test_an_off_platform_hop_in_the_middle_is_refused():
    with respx.mock() as mock:
        mock.get("https://v.douyin.com/iAbC123/").respond(302, headers={"Location": "https://v.douyin.com/other/"})
        mock.get("https://v.douyin.com/other/").respond(302, headers={"Location": "https://tracker.example.net/r"})
        with pytest.raises(UnsupportedLink) as caught:
            expand("https://v.douyin.com/iAbC123/")
    assert caught.value.reason == "redirect_off_platform"


@pytest.mark.parametrize("page", [
    '<html><head><meta property="og:url" content="https://www.instagram.com/p/C1a2B3c4D5e/"></head></html>',
    '<html><head><link rel="canonical" href="https://www.instagram.com/p/C1a2B3c4D5e/"></head></html>',
    '<html><head><meta http-equiv="refresh" content="0;URL=https://www.instagram.com/p/C1a2B3c4D5e/"></head></html>',
])
def test_a_short_link_answering_200_names_its_post_in_the_page(page):
    with respx.mock() as mock:
        mock.get("https://www.instagram.com/share/p/BAdEf12345").respond(200, html=page)
        target = expand("https://www.instagram.com/share/p/BAdEf12345")
    assert (target.kind, target.id) == ("post", "C1a2B3c4D5e")


def test_a_page_naming_no_post_on_the_platform_is_unresolved():
    page = '<meta property="og:url" content="https://apps.apple.com/app/id1"><title>Open in app</title>'
    with respx.mock() as mock:
        mock.get("https://b23.tv/Ab3xYz9").respond(200, html=page)
        with pytest.raises(UnsupportedLink) as caught:
            expand("https://b23.tv/Ab3xYz9")
    assert caught.value.reason == "unresolved_short_link"


def test_a_dead_short_link_is_unresolved():
    with respx.mock() as mock:
        mock.get("https://vm.tiktok.com/ZMdead00/").respond(404)
        with pytest.raises(UnsupportedLink) as caught:
            expand("https://vm.tiktok.com/ZMdead00/")
    assert caught.value.reason == "unresolved_short_link"


def test_a_redirect_loop_stops_after_the_hop_limit():
    with respx.mock() as mock:
        loop = mock.get("https://b23.tv/Ab3xYz9").respond(302, headers={"Location": "https://b23.tv/Ab3xYz9"})
        with pytest.raises(UnsupportedLink) as caught:
            expand("https://b23.tv/Ab3xYz9")
    assert caught.value.reason == "unresolved_short_link" and loop.call_count == MAX_HOPS + 1


def test_timeouts_and_platform_failures_are_typed():
    with respx.mock() as mock, pytest.raises(UpstreamTimeout):
        mock.get("https://v.douyin.com/iAbC123/").mock(side_effect=httpx.ConnectTimeout("slow"))
        expand("https://v.douyin.com/iAbC123/")
    with respx.mock() as mock, pytest.raises(UpstreamFailure):
        mock.get("https://v.douyin.com/iAbC123/").respond(503)
        expand("https://v.douyin.com/iAbC123/")
    with respx.mock() as mock, pytest.raises(UpstreamFailure):
        mock.get("https://v.douyin.com/iAbC123/").mock(side_effect=httpx.ConnectError("refused"))
        expand("https://v.douyin.com/iAbC123/")


@pytest.mark.parametrize("location", ["http://[v.douyin.com/x", "https://[::1/oops", "http://v.douyin.com:99999/"])
def test_a_malformed_location_is_a_typed_failure(location):
    with respx.mock() as mock, pytest.raises(UpstreamFailure):
        short = mock.get("https://v.douyin.com/iAbC123/").respond(302, headers={"Location": location})
        expand("https://v.douyin.com/iAbC123/")
    assert short.call_count == 1  # and nothing else was fetched (respx refuses any request not mocked)


def test_a_malformed_link_in_a_page_is_skipped_for_the_next():
    page = ('<link rel="canonical" href="https://[broken"><meta property="og:url" '
            'content="https://www.instagram.com/p/C1a2B3c4D5e/">')
    with respx.mock() as mock:
        mock.get("https://www.instagram.com/share/p/BAdEf12345").respond(200, html=page)
        target = expand("https://www.instagram.com/share/p/BAdEf12345")
    assert target.id == "C1a2B3c4D5e"
