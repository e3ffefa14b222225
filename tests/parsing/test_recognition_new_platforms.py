"""Recognition of the link forms of AcFun, NetEase Cloud Music, Kugou and Migu: supported and refused, in
share text, without a scheme, expanded from short links, and NetEase playlists and albums for /collection."""

from __future__ import annotations

import pytest

from parsing.recognition import PLATFORMS, recognize, recognize_expanded

NE = "1901371647"
KG = "C76E9235868169CABE26D02D521ED90A"
MG = "6005661F31N"

# (input, platform, kind, id, normalised url)
SUPPORTED: list[tuple[str, str, str, str | None, str]] = [
    # AcFun
    ("https://www.acfun.cn/v/ac35457073", "acfun", "video", "ac35457073", "https://www.acfun.cn/v/ac35457073"),
    ("https://www.acfun.cn/v/ac35468952_2?shareUid=1", "acfun", "video", "ac35468952_2",
     "https://www.acfun.cn/v/ac35468952_2"),
    ("https://m.acfun.cn/v/?ac=35457073&sid=abc", "acfun", "video", "ac35457073", "https://m.acfun.cn/v/?ac=35457073"),
    ("https://www.acfun.cn/bangumi/aa6002917_36188_1745457?ac=2&x=1", "acfun", "bangumi", "aa6002917_36188_1745457",
     "https://www.acfun.cn/bangumi/aa6002917_36188_1745457?ac=2"),
    # NetEase Cloud Music
    (f"https://music.163.com/song?id={NE}&userid=42", "netease", "song", NE, f"https://music.163.com/song?id={NE}"),
    (f"https://music.163.com/#/song?id={NE}", "netease", "song", NE, f"https://music.163.com/song?id={NE}"),
    (f"http://music.163.com/#/song?id={NE}&market=baiduqk", "netease", "song", NE,
     f"http://music.163.com/song?id={NE}"),
    (f"https://y.music.163.com/m/song?app_version=8.8.45&id={NE}&uct2=U2F%3D&dlt=0846", "netease", "song", NE,
     f"https://y.music.163.com/m/song?id={NE}"),
    (f"https://music.163.com/m/song?id={NE}", "netease", "song", NE, f"https://music.163.com/m/song?id={NE}"),
    (f"https://music.163.com/song/{NE}/?userid=42", "netease", "song", NE, f"https://music.163.com/song/{NE}/"),
    ("https://163cn.tv/1oIsFR4", "netease", "short", None, "https://163cn.tv/1oIsFR4"),
    # Kugou
    (f"https://www.kugou.com/song/#hash={KG}&album_id=960399", "kugou", "hash", KG,
     f"https://www.kugou.com/song/?hash={KG}&album_id=960399"),
    (f"https://www.kugou.com/song/#hash={KG.lower()}", "kugou", "hash", KG, f"https://www.kugou.com/song/?hash={KG.lower()}"),
    (f"https://m.kugou.com/share/song.html?hash={KG}&from=x", "kugou", "hash", KG,
     f"https://m.kugou.com/share/song.html?hash={KG}"),
    ("https://www.kugou.com/mixsong/8odv4ef8.html", "kugou", "mixsong", "8odv4ef8",
     "https://www.kugou.com/mixsong/8odv4ef8.html"),
    ("https://m.kugou.com/mixsong/8odv4ef8.html?from=wx", "kugou", "mixsong", "8odv4ef8",
     "https://m.kugou.com/mixsong/8odv4ef8.html"),
    ("https://t1.kugou.com/song.html?id=2bi8Fe9CSV3", "kugou", "share", "2bi8Fe9CSV3",
     "https://t1.kugou.com/song.html?id=2bi8Fe9CSV3"),
    ("https://www.kugou.com/share/2bi8Fe9CSV3.html?id=2bi8Fe9CSV3#6ed9gna4", "kugou", "share", "2bi8Fe9CSV3",
     "https://www.kugou.com/share/2bi8Fe9CSV3.html"),
    ("https://m.kugou.com/share/song.html?chain=4ZxbW7aBcV2", "kugou", "share", "4ZxbW7aBcV2",
     "https://m.kugou.com/share/song.html?chain=4ZxbW7aBcV2"),
    # Migu
    (f"https://music.migu.cn/v3/music/song/{MG}", "migu", "song", MG, f"https://music.migu.cn/v3/music/song/{MG}"),
    ("https://music.migu.cn/v3/music/song/60054704037?origin=1", "migu", "song", "60054704037",
     "https://music.migu.cn/v3/music/song/60054704037"),
    (f"https://m.music.migu.cn/v3/music/song/{MG}", "migu", "song", MG, f"https://m.music.migu.cn/v3/music/song/{MG}"),
    (f"https://m.music.migu.cn/v4/music/song/{MG}?channel=0146", "migu", "song", MG,
     f"https://m.music.migu.cn/v4/music/song/{MG}"),
    ("https://c.migu.cn/00aBcD?ifrom=share", "migu", "short", None, "https://c.migu.cn/00aBcD"),
]

REFUSED: list[tuple[str, str | None, str]] = [
    ("https://www.acfun.cn/", "acfun", "not_a_post"),
    ("https://www.acfun.cn/u/51246077", "acfun", "profile"),
    ("https://www.acfun.cn/a/ac12345", "acfun", "article"),
    ("https://live.acfun.cn/live/51246077", "acfun", "live"),
    ("https://www.acfun.cn/v/list1/index.htm", "acfun", "invalid_id"),
    ("https://www.acfun.cn/v/abc", "acfun", "invalid_id"),
    ("https://imgs.aixifan.com/content/2022_6_28/1.jpeg", "acfun", "media_url"),
    ("https://music.163.com/", "netease", "not_a_post"),
    ("https://music.163.com/#/", "netease", "not_a_post"),
    ("https://music.163.com/#/playlist?id=79177352", "netease", "playlist"),
    ("https://music.163.com/album?id=133153666", "netease", "collection"),
    ("https://music.163.com/#/artist?id=10559", "netease", "profile"),
    ("https://music.163.com/#/user/home?id=67549805", "netease", "profile"),
    ("https://music.163.com/#/mv?id=10958064", "netease", "unsupported_path"),
    ("https://music.163.com/song?id=abc", "netease", "invalid_id"),
    ("https://music.163.com/song", "netease", "invalid_id"),
    ("https://m701.music.126.net/2026/abc/x.mp3", "netease", "media_url"),
    ("https://www.163.com/news/article/ABC.html", None, "unknown_platform"),
    ("https://www.kugou.com/", "kugou", "not_a_post"),
    ("https://www.kugou.com/song/", "kugou", "not_a_post"),
    ("https://www.kugou.com/song/#hash=nothex", "kugou", "invalid_id"),
    ("https://www.kugou.com/singer/3520.html", "kugou", "profile"),
    ("https://www.kugou.com/yy/special/single/123.html", "kugou", "unsupported_path"),
    ("https://fanxing.kugou.com/1234", "kugou", "live"),
    ("https://imge.kgimg.com/stdmusic/480/1.jpg", "kugou", "media_url"),
    ("https://music.migu.cn/v3", "migu", "not_a_post"),
    ("https://music.migu.cn/v3/music/album/1003767159", "migu", "collection"),
    ("https://music.migu.cn/v3/music/playlist/123", "migu", "playlist"),
    ("https://music.migu.cn/v3/music/artist/112", "migu", "profile"),
    ("https://music.migu.cn/v3/music/song/bad-id", "migu", "invalid_id"),
    ("https://freetyst.nf.migu.cn/public/x.mp3", "migu", "media_url"),
    ("https://www.migu.cn/", None, "unknown_platform"),
]


@pytest.mark.parametrize(("text", "platform", "kind", "media_id", "url"), SUPPORTED)
def test_every_new_link_form_is_recognised_with_its_normalised_url(text, platform, kind, media_id, url):
    result = recognize(text)
    assert (result.supported, result.reason) == (True, None)
    assert (result.platform, result.kind, result.id, result.url) == (platform, kind, media_id, url)
    assert result.short is (kind == "short") and result.endpoint == "parse"
    assert recognize(text.split("://", 1)[1]).id == media_id  # without a scheme


@pytest.mark.parametrize(("text", "platform", "kind", "media_id", "url"), SUPPORTED)
def test_the_new_forms_are_found_in_share_text(text, platform, kind, media_id, url):
    result = recognize(f"分享「晚风心里吹」🎵 {text} （来自App）复制链接打开")
    assert (result.supported, result.platform, result.kind, result.id) == (True, platform, kind, media_id)


@pytest.mark.parametrize(("text", "platform", "reason"), REFUSED)
def test_other_pages_of_the_new_platforms_are_refused_with_a_reason(text, platform, reason):
    result = recognize(text)
    assert (result.supported, result.platform, result.reason) == (False, platform, reason)
    assert (result.kind, result.id) == (None, None)


@pytest.mark.parametrize(("platform", "url", "kind", "media_id"), [
    ("netease", f"https://y.music.163.com/m/song?id={NE}&uct2=abc", "song", NE),
    ("netease", f"https://music.163.com/#/song?id={NE}", "song", NE),
    ("migu", f"https://m.music.migu.cn/v4/music/song/{MG}?channel=1", "song", MG),
    ("kugou", "https://m.kugou.com/mixsong/8odv4ef8.html", "mixsong", "8odv4ef8"),
])
def test_a_short_link_expanded_to_a_song_is_recognised(platform, url, kind, media_id):
    result = recognize_expanded(platform, url)
    assert (result.supported, result.kind, result.id) == (True, kind, media_id)


def test_an_expansion_that_leaves_the_platform_is_refused():
    assert recognize_expanded("netease", f"https://music.migu.cn/v3/music/song/{MG}").reason == "platform_mismatch"


def test_the_new_platforms_follow_the_nine_in_platforms():
    assert PLATFORMS[9:] == ("acfun", "netease", "kugou", "migu")


@pytest.mark.parametrize(("text", "kind", "media_id", "url"), [
    ("https://music.163.com/#/playlist?id=79177352", "playlist", "79177352", "https://music.163.com/playlist?id=79177352"),
    ("https://music.163.com/playlist?id=79177352&userid=42", "playlist", "79177352",
     "https://music.163.com/playlist?id=79177352"),
    ("https://y.music.163.com/m/playlist?id=79177352&uct2=x", "playlist", "79177352",
     "https://y.music.163.com/m/playlist?id=79177352"),
    ("https://music.163.com/#/discover/toplist?id=3778678", "playlist", "3778678",
     "https://music.163.com/discover/toplist?id=3778678"),
    ("https://music.163.com/#/album?id=133153666", "album", "133153666", "https://music.163.com/album?id=133153666"),
    ("分享歌单《深夜粤语》 https://music.163.com/playlist?id=79177352 (来自@网易云音乐)", "playlist", "79177352",
     "https://music.163.com/playlist?id=79177352"),
])
def test_netease_playlists_and_albums_are_collections(text, kind, media_id, url):
    result = recognize(text, "collection")
    assert (result.supported, result.platform, result.kind, result.id, result.url) == (
        True, "netease", kind, media_id, url)
    assert result.endpoint == "collection"
    assert recognize(text).reason in ("playlist", "collection")  # /parse refuses them, naming the endpoint
    assert recognize(text).endpoint == "collection"


@pytest.mark.parametrize(("text", "reason"), [
    (f"https://music.163.com/#/song?id={NE}", "not_a_collection"),
    ("https://music.163.com/#/artist?id=10559", "not_a_collection"),
    ("https://music.163.com/playlist?id=abc", "invalid_id"),
    ("https://www.kugou.com/mixsong/8odv4ef8.html", "operation_not_supported"),
])
def test_other_links_are_not_netease_collections(text, reason):
    result = recognize(text, "collection")
    assert (result.supported, result.reason) == (False, reason)


def test_a_163cn_short_link_is_accepted_for_collection_and_expands_to_a_playlist():
    assert recognize("https://163cn.tv/1oIsFR4", "collection").short is True
    expanded = recognize_expanded("netease", "https://y.music.163.com/m/playlist?id=79177352&uct2=x", "collection")
    assert (expanded.supported, expanded.kind, expanded.id) == (True, "playlist", "79177352")
