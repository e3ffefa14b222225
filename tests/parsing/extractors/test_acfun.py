"""AcFun through the real yt-dlp extractor, replaying a video page and its HLS renditions."""

from __future__ import annotations

import pytest
from yt_dlp.networking.exceptions import TransportError

from parsing.extractors.acfun import AcfunExtractor
from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.recognition import recognize
from tests.support.ytdlp_replay import replay

PAGE = "https://www.acfun.cn/v/ac35457073"
HLS = {
    "https://tx-safety-video.acfun.cn/mediacloud/acfun/acfun_video/hls/1080/*": "acfun/media_1080.m3u8",
    "https://tx-safety-video.acfun.cn/mediacloud/acfun/acfun_video/hls/720/*": "acfun/media_720.m3u8",
}
VIDEO = {PAGE: "acfun/video_page.html", **HLS}


def extract(link: str, routes: dict = VIDEO):
    with replay(routes) as calls:
        return AcfunExtractor().extract(recognize(link)), calls


@pytest.mark.parametrize("link", [
    "https://www.acfun.cn/v/ac35457073",
    "https://m.acfun.cn/v/?ac=35457073&sid=abc",
    "【1 8 岁 现 状】 https://www.acfun.cn/v/ac35457073?shareUid=1 （来自AcFun）",
])
def test_a_video_is_its_hls_renditions_best_first_with_metadata(link):
    result, calls = extract(link)
    data = result.to_dict()
    assert calls[0].url == PAGE
    assert (data["platform"], data["id"], data["title"]) == ("acfun", "35457073", "1 8 岁 现 状")
    assert data["thumbnail"] == "https://imgs.aixifan.com/content/2022_6_28/1.6564039667573726E9.jpeg"
    assert data["duration"] == pytest.approx(174.208)
    assert data["author"] == {"name": "锤子game", "id": "51246077", "url": "https://www.acfun.cn/u/51246077"}
    assert [(v["quality"], v["source"], v["hasAudio"]) for v in data["videos"]] == [
        ("1080p", "hls", True), ("720p", "hls", True)]
    best = data["videos"][0]["url"]
    assert best.startswith("https://tx-safety-video.acfun.cn/") and ".m3u8" in best
    assert all(v["headers"]["Referer"] == "https://www.acfun.cn/" for v in data["videos"])
    assert data["description"] == "“赶紧回去！班主任查班了！”"
    assert data["uploadedAt"] == "2022-06-28T08:12:47Z"
    assert data["stats"] == {"views": 120345, "likes": 2311, "comments": 198, "shares": None}


def test_a_part_link_asks_for_that_part():
    routes = {"https://www.acfun.cn/v/ac35457073_2": "acfun/video_page.html", **HLS}
    result, calls = extract("https://www.acfun.cn/v/ac35457073_2", routes)
    assert calls[0].url == "https://www.acfun.cn/v/ac35457073_2" and result.id == "35457073_2"


def test_a_removed_video_is_deleted():
    with pytest.raises(ContentUnavailable) as caught:
        extract(PAGE, {PAGE: ("acfun/deleted_page.html", 404, {})})
    assert caught.value.reason == "deleted"


def test_a_page_without_its_play_data_is_a_typed_upstream_failure():
    with pytest.raises(UpstreamFailure):
        extract(PAGE, {PAGE: "acfun/malformed_page.html", **HLS})
    with pytest.raises(UpstreamFailure):
        extract(PAGE, {PAGE: b"<html><script>window.videoInfo = {not json;</script></html>"})


def test_a_refusal_is_an_upstream_failure_and_a_timeout_a_timeout():
    with pytest.raises(UpstreamFailure):
        extract(PAGE, {PAGE: (b"blocked", 403, {})})
    with pytest.raises(UpstreamTimeout):
        extract(PAGE, {PAGE: TransportError("timed out", cause=TimeoutError())})
