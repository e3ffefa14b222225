"""Migu: songs from the app's resource API, qualities best first; typed failures."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.migu import RESOURCE_API, MiguExtractor, song_result
from parsing.recognition import recognize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "migu"
CID = "6005661F31N"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def extract(link: str, name: str = "resource.json"):
    with respx.mock() as mock:
        api = mock.get(url__startswith=RESOURCE_API).respond(200, json=load(name))
        result = MiguExtractor().extract(recognize(link))
    return result.to_dict(), api


@pytest.mark.parametrize("link", [
    f"https://music.migu.cn/v3/music/song/{CID}",
    f"https://m.music.migu.cn/v4/music/song/{CID}?channel=0146",
    f"分享周杰伦的歌曲《晴天》 https://music.migu.cn/v3/music/song/{CID} 咪咕音乐",
])
def test_a_song_lists_its_qualities_best_first_with_metadata(link):
    data, api = extract(link)
    assert api.calls.last.request.url.params["copyrightId"] == CID
    assert (data["platform"], data["id"], data["title"]) == ("migu", CID, "晴天")
    assert data["author"] == {"name": "周杰伦", "id": "112", "url": "https://music.migu.cn/v3/music/artist/112"}
    assert data["thumbnail"].endswith("/60c49d27e1f6f216d55e05f485c71b44")  # imgSizeType 03, the largest
    assert data["url"] == f"https://music.migu.cn/v3/music/song/{CID}"
    assert [(a["quality"], a["mimeType"], a["bitrate"]) for a in data["audios"]] == [
        ("lossless", "audio/flac", 1411000), ("320kbps", "audio/mpeg", 320000), ("128kbps", "audio/mpeg", 128000)]
    assert all(a["url"].startswith("https://freetyst.nf.migu.cn/public/") for a in data["audios"])
    assert data["audios"][0]["url"].endswith(".flac")
    assert all(a["headers"]["Referer"] == "https://music.migu.cn/" for a in data["audios"])


def test_formats_without_an_address_play_through_the_listen_endpoint():
    payload = load("resource.json")
    for fmt in payload["resource"][0]["newRateFormats"]:
        fmt.pop("url", None)
        fmt.pop("androidUrl", None)
    audios = song_result(payload, CID).audios
    assert [a.quality for a in audios] == ["lossless", "320kbps", "128kbps"]
    query = parse_qs(urlsplit(audios[1].url).query)
    assert audios[1].url.startswith("https://app.pd.nf.migu.cn/")
    assert (query["toneFlag"], query["contentId"], query["copyrightId"]) == (["HQ"], ["600907000009041441"], [CID])


def test_a_song_migu_no_longer_has_is_deleted():
    with pytest.raises(ContentUnavailable) as caught:
        extract(f"https://music.migu.cn/v3/music/song/{CID}", "resource_deleted.json")
    assert caught.value.reason == "deleted"


def test_a_copyright_restricted_song_is_region_blocked():
    with pytest.raises(ContentUnavailable) as caught:
        extract(f"https://music.migu.cn/v3/music/song/{CID}", "resource_copyright.json")
    assert caught.value.reason == "region_blocked"


def test_a_song_with_only_encrypted_formats_is_no_media():
    payload = load("resource.json")
    song = payload["resource"][0]
    song["newRateFormats"] = [f for f in song["newRateFormats"] if f["formatType"] == "Z3D"]
    song.pop("contentId")
    with pytest.raises(ContentUnavailable) as caught:
        song_result(payload, CID)
    assert caught.value.reason == "no_media"


ODD_FORMAT = {"code": "000000", "resource": [{"newRateFormats": [{"formatType": "HQ", "url": 3}]}]}


@pytest.mark.parametrize("payload", [None, [], {"code": "000000", "resource": "x"}, ODD_FORMAT,
                                     {"code": "999999", "info": 5}])
def test_malformed_answers_are_typed_errors(payload):
    with pytest.raises((UpstreamFailure, ContentUnavailable)):
        song_result(payload, CID)


def test_non_json_is_an_upstream_failure_and_a_timeout_a_timeout():
    with respx.mock() as mock:
        mock.get(url__startswith=RESOURCE_API).respond(200, text="<html>busy</html>")
        with pytest.raises(UpstreamFailure):
            MiguExtractor().extract(recognize(f"https://music.migu.cn/v3/music/song/{CID}"))
    with respx.mock() as mock:
        mock.get(url__startswith=RESOURCE_API).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            MiguExtractor().extract(recognize(f"https://music.migu.cn/v3/music/song/{CID}"))
