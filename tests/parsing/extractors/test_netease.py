"""NetEase Cloud Music: songs through the real yt-dlp extractor (replayed), playlists and albums from the
site's JSON (respx), typed failures."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from yt_dlp.networking.exceptions import TransportError

from parsing.expansion import resolve
from parsing.extractors.base import ContentUnavailable, UpstreamFailure, UpstreamTimeout
from parsing.extractors.netease import ALBUM_API, PLAYLIST_API, SONG_DETAIL_API, NeteaseExtractor
from parsing.recognition import Recognition, recognize
from tests.support.ytdlp_replay import replay

SONG_ID = "1901371647"
DETAIL = "http://music.163.com/api/song/detail?*"
PLAYER = "POST https://interface3.music.163.com/eapi/song/enhance/player/url/v1*"
SONG = {DETAIL: "netease/song_detail.json", PLAYER: "netease/player_url.json",
        "http://music.163.com/api/song/lyric?*": "netease/lyric.json"}


def extract(link: str | Recognition, routes: dict = SONG):
    with replay(routes) as calls:
        return NeteaseExtractor().extract(recognize(link) if isinstance(link, str) else link), calls


@pytest.mark.parametrize("link", [
    f"https://music.163.com/song?id={SONG_ID}&userid=1",
    f"https://music.163.com/#/song?id={SONG_ID}",
    f"https://y.music.163.com/m/song?app_version=8.8.45&id={SONG_ID}&uct2=abc",
    f"分享阿梨粤/R7的单曲《晚风心里吹》: https://music.163.com/song?id={SONG_ID} (来自@网易云音乐)",
])
def test_a_song_is_its_track_in_audios_with_title_artists_cover_and_duration(link):
    result, calls = extract(link)
    data = result.to_dict()
    assert (data["platform"], data["id"], data["title"]) == ("netease", SONG_ID, "晚风心里吹")
    assert data["url"] == f"https://music.163.com/song?id={SONG_ID}"
    assert data["author"]["name"] == "阿梨粤 / R7"
    assert data["duration"] == 242 and data["videos"] == [] and data["images"] == []
    assert data["thumbnail"] == "https://p1.music.126.net/ry6PQ0YqMCp_Xq8ipYKJkA==/109951166538498911.jpg"
    (audio,) = data["audios"]
    assert audio["url"].startswith("http://m701.music.126.net/") and audio["url"].endswith(".mp3")
    assert (audio["mimeType"], audio["bitrate"], audio["quality"]) == ("audio/mpeg", 320000, "320kbps")
    assert audio["headers"]["Referer"] == "https://music.163.com/"
    assert data["uploadedAt"] == "2021-11-21T16:00:00Z"
    assert "description" not in data  # yt-dlp's "description" is the lyrics
    assert calls[0].url == f"http://music.163.com/api/song/detail?id={SONG_ID}&ids=%5B{SONG_ID}%5D"


def test_a_removed_song_is_deleted():
    with pytest.raises(ContentUnavailable) as caught:
        extract(f"https://music.163.com/song?id={SONG_ID}", {**SONG, DETAIL: "netease/song_detail_deleted.json"})
    assert caught.value.reason == "deleted"


def test_a_vip_only_or_unlicensed_song_without_an_address_is_region_blocked():
    with pytest.raises(ContentUnavailable) as caught:
        extract(f"https://music.163.com/song?id={SONG_ID}", {**SONG, PLAYER: "netease/player_url_none.json"})
    assert caught.value.reason == "region_blocked"


def test_the_login_wall_is_login_required():
    with pytest.raises(ContentUnavailable) as caught:
        extract(f"https://music.163.com/song?id={SONG_ID}", {**SONG, DETAIL: "netease/song_detail_login.json"})
    assert caught.value.reason == "login_required"


@pytest.mark.parametrize("body", [b"<html>busy</html>", {"songs": "nope", "code": 200}, {"code": 200}])
def test_a_malformed_detail_is_a_typed_upstream_failure(body):
    with pytest.raises(UpstreamFailure):
        extract(f"https://music.163.com/song?id={SONG_ID}", {**SONG, DETAIL: body})


def test_a_timeout_is_an_upstream_timeout():
    with pytest.raises(UpstreamTimeout):
        extract(f"https://music.163.com/song?id={SONG_ID}",
                {**SONG, DETAIL: TransportError("timed out", cause=TimeoutError())})


def test_a_163cn_short_link_is_expanded_then_extracted():
    with respx.mock() as mock:
        mock.get("https://163cn.tv/1oIsFR4").respond(
            302, headers={"Location": f"https://y.music.163.com/m/song?id={SONG_ID}&uct2=U2FsdGVk&dlt=0846"})
        target = resolve(recognize("分享单曲 https://163cn.tv/1oIsFR4 (来自@网易云音乐)"))
    assert (target.platform, target.kind, target.id) == ("netease", "song", SONG_ID)
    result, _ = extract(target)
    assert result.audios and result.title == "晚风心里吹"


# --- collections ---------------------------------------------------------------------------------------------


def playlist_target(list_id: str = "79177352") -> Recognition:
    return Recognition(f"https://music.163.com/#/playlist?id={list_id}", True, "netease", "playlist", list_id,
                       False, f"https://music.163.com/playlist?id={list_id}", None)


def album_target(album_id: str = "133153666") -> Recognition:
    return Recognition(f"https://music.163.com/#/album?id={album_id}", True, "netease", "album", album_id,
                       False, f"https://music.163.com/album?id={album_id}", None)


def fixture(name: str):
    from tests.support.ytdlp_replay import FIXTURES

    return json.loads((FIXTURES / "netease" / name).read_text(encoding="utf-8"))


def test_the_first_playlist_page_lists_50_tracks_with_the_missing_ones_fetched_in_one_call():
    with respx.mock() as mock:
        listing = mock.get(url__startswith=PLAYLIST_API).respond(200, json=fixture("playlist_detail.json"))
        details = mock.get(url__startswith=SONG_DETAIL_API).respond(200, json=fixture("song_detail_v3_page1.json"))
        page = NeteaseExtractor().collection(playlist_target(), 1)
    data = page.to_dict()
    assert (data["title"], data["total"], data["page"], data["nextPage"]) == ("深夜粤语", 120, 1, 2)
    assert data["author"] == {"name": "浑然破灭", "id": "67549805", "url": "https://music.163.com/user/home?id=67549805"}
    assert data["thumbnail"].startswith("https://p1.music.126.net/")
    assert [i["index"] for i in data["items"]] == list(range(1, 51))
    first, last = data["items"][0], data["items"][-1]
    assert first == {"index": 1, "id": "2000000001", "title": "曲目 1", "url": "https://music.163.com/song?id=2000000001",
                     "duration": 181.0, "thumbnail": "https://p1.music.126.net/ab001==/109951166538498901.jpg"}
    assert (last["id"], last["title"], last["duration"]) == ("2000000050", "曲目 50", 230.0)
    assert parse_qs(urlsplit(str(listing.calls.last.request.url)).query)["id"] == ["79177352"]
    asked = json.loads(parse_qs(urlsplit(str(details.calls.last.request.url)).query)["c"][0])
    assert [a["id"] for a in asked] == list(range(2000000021, 2000000051)) and details.call_count == 1
    # Every item's url is a link /parse accepts, for the same song.
    assert all(recognize(i["url"]).id == i["id"] and recognize(i["url"]).kind == "song" for i in data["items"])


def test_the_last_playlist_page_ends_and_a_track_without_details_keeps_its_link():
    with respx.mock() as mock:
        mock.get(url__startswith=PLAYLIST_API).respond(200, json=fixture("playlist_detail.json"))
        mock.get(url__startswith=SONG_DETAIL_API).respond(200, json=fixture("song_detail_v3_page3.json"))
        data = NeteaseExtractor().collection(playlist_target(), 3).to_dict()
    assert data["nextPage"] is None and [i["index"] for i in data["items"]] == list(range(101, 121))
    gone = next(i for i in data["items"] if i["id"] == "2000000110")
    assert gone == {"index": 110, "id": "2000000110", "title": "", "url": "https://music.163.com/song?id=2000000110",
                    "duration": None, "thumbnail": None}


def test_a_page_past_the_end_is_no_such_page():
    with respx.mock() as mock:
        mock.get(url__startswith=PLAYLIST_API).respond(200, json=fixture("playlist_detail.json"))
        with pytest.raises(ContentUnavailable) as caught:
            NeteaseExtractor().collection(playlist_target(), 4)
    assert caught.value.reason == "no_such_page"


def test_an_album_lists_its_songs_from_one_answer():
    with respx.mock() as mock:
        route = mock.get(ALBUM_API.format(id="133153666")).respond(200, json=fixture("album.json"))
        data = NeteaseExtractor().collection(album_target(), 1).to_dict()
    assert route.called
    assert (data["title"], data["total"], data["nextPage"], len(data["items"])) == ("晚风合集", 12, None, 12)
    assert data["author"] == {"name": "阿梨粤", "id": "12174557", "url": "https://music.163.com/artist?id=12174557"}
    assert data["items"][11]["index"] == 12 and data["items"][11]["url"] == "https://music.163.com/song?id=2000000012"


@pytest.mark.parametrize("name, reason", [("playlist_deleted.json", "deleted"), ("playlist_private.json", "private")])
def test_deleted_and_private_playlists_say_why(name, reason):
    with respx.mock() as mock:
        mock.get(url__startswith=PLAYLIST_API).respond(200, json=fixture(name))
        with pytest.raises(ContentUnavailable) as caught:
            NeteaseExtractor().collection(playlist_target(), 1)
    assert caught.value.reason == reason


@pytest.mark.parametrize("body", [{"code": 200}, {"code": 200, "playlist": {"trackIds": "x", "tracks": 3}},
                                  {"code": 200, "album": {"name": "x"}, "songs": [{"id": "not a number"}]}])
def test_malformed_collections_are_typed_errors(body):
    with respx.mock() as mock:
        mock.get(url__startswith=PLAYLIST_API).respond(200, json=body)
        mock.get(url__startswith="https://music.163.com/api/v1/album/").respond(200, json=body)
        for target in (playlist_target(), album_target()):
            try:
                page = NeteaseExtractor().collection(target, 1)
            except (UpstreamFailure, ContentUnavailable):
                continue
            assert page.items == []  # a well-formed but empty answer is an empty page, never a crash


def test_a_collection_timeout_is_an_upstream_timeout():
    with respx.mock() as mock:
        mock.get(url__startswith=PLAYLIST_API).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            NeteaseExtractor().collection(playlist_target(), 1)
