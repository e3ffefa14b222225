"""Kugou: songs from the mobile song-info API, found by hash, mix-song page or share page; typed failures."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.kugou import SONG_INFO_API, KugouExtractor, song_result
from parsing.recognition import recognize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kugou"
HASH = "C76E9235868169CABE26D02D521ED90A"


def load(name: str):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def extract(link: str, info: str = "song_info.json", pages: dict[str, str] | None = None):
    with respx.mock() as mock:
        api = mock.get(url__startswith=SONG_INFO_API).respond(200, json=load(info))
        for url, name in (pages or {}).items():
            mock.get(url).respond(200, html=load(name))
        result = KugouExtractor().extract(recognize(link))
    return result.to_dict(), api


def test_a_hash_link_is_the_track_with_title_singer_cover_and_duration():
    data, api = extract(f"https://www.kugou.com/song/#hash={HASH.lower()}&album_id=960399")
    assert api.calls.last.request.url.params["hash"] == HASH
    assert api.calls.last.request.url.params["cmd"] == "playInfo"
    assert (data["platform"], data["id"], data["title"], data["duration"]) == ("kugou", HASH, "晴天", 254)
    assert data["author"] == {"name": "周杰伦", "id": "3520", "url": None}
    assert data["thumbnail"] == "https://imge.kugou.com/stdmusic/480/20200909/20200909121704620931.jpg"
    assert data["url"] == f"https://www.kugou.com/song/#hash={HASH}&album_id=960399"
    (audio,) = data["audios"]
    assert audio["url"].startswith("https://webfs.tx.kugou.com/") and audio["url"].endswith(".mp3")
    assert (audio["mimeType"], audio["bitrate"], audio["quality"]) == ("audio/mpeg", 128000, "128kbps")
    assert audio["headers"]["Referer"] == "https://www.kugou.com/"


@pytest.mark.parametrize("link, page", [
    ("https://www.kugou.com/mixsong/8odv4ef8.html", "https://www.kugou.com/mixsong/8odv4ef8.html"),
    ("https://m.kugou.com/mixsong/8odv4ef8.html", "https://www.kugou.com/mixsong/8odv4ef8.html"),
    ("周杰伦《晴天》 https://t1.kugou.com/song.html?id=2bi8Fe9CSV3 (来自酷狗音乐)",
     "https://t1.kugou.com/song.html?id=2bi8Fe9CSV3"),
    ("https://www.kugou.com/share/2bi8Fe9CSV3.html?id=2bi8Fe9CSV3#6ed9gna4", "https://www.kugou.com/share/2bi8Fe9CSV3.html"),
])
def test_mixsong_and_share_pages_name_the_hash(link, page):
    data, api = extract(link, pages={page: "mixsong_page.html"})
    assert api.calls.last.request.url.params["hash"] == HASH and data["title"] == "晴天"


def test_a_removed_song_is_deleted_by_its_page_or_by_the_api():
    with pytest.raises(ContentUnavailable) as caught:
        extract("https://www.kugou.com/mixsong/8odv4ef8.html",
                pages={"https://www.kugou.com/mixsong/8odv4ef8.html": "mixsong_gone.html"})
    assert caught.value.reason == "deleted"
    with pytest.raises(ContentUnavailable) as caught:
        extract(f"https://www.kugou.com/song/#hash={HASH}", info="song_info_deleted.json")
    assert caught.value.reason == "deleted"


def test_a_paid_or_vip_song_without_a_track_is_login_required():
    with pytest.raises(ContentUnavailable) as caught:
        extract(f"https://www.kugou.com/song/#hash={HASH}", info="song_info_paid.json")
    assert caught.value.reason == "login_required"


def test_a_song_not_served_here_is_region_blocked():
    payload = {**load("song_info.json"), "url": "", "backup_url": [], "error": "该歌曲暂无版权"}
    with pytest.raises(ContentUnavailable) as caught:
        song_result(payload, HASH)
    assert caught.value.reason == "region_blocked"


@pytest.mark.parametrize("payload", [[], "x", {"status": 1, "errcode": 0, "url": 5},
                                     {"status": 1, "errcode": 0, "url": "https://a/b.mp3", "timeLength": {"x": 1},
                                      "songName": ["a"]}])
def test_malformed_answers_are_typed_errors(payload):
    try:
        result = song_result(payload, HASH)
    except (UpstreamFailure, ContentUnavailable):
        return
    assert result.audios  # whatever is read from an odd shape is still a track


def test_non_json_and_errors_are_upstream_failures_and_a_timeout_a_timeout():
    with respx.mock() as mock:
        mock.get(url__startswith=SONG_INFO_API).respond(200, text="<html>busy</html>")
        with pytest.raises(UpstreamFailure):
            KugouExtractor().extract(recognize(f"https://www.kugou.com/song/#hash={HASH}"))
    with respx.mock() as mock:
        mock.get(url__startswith=SONG_INFO_API).respond(503)
        with pytest.raises(UpstreamFailure):
            KugouExtractor().extract(recognize(f"https://www.kugou.com/song/#hash={HASH}"))
    with respx.mock() as mock:
        mock.get(url__startswith=SONG_INFO_API).mock(side_effect=httpx.ConnectTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            KugouExtractor().extract(recognize(f"https://www.kugou.com/song/#hash={HASH}"))
