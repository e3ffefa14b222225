"""Path rules of the music platforms (NetEase Cloud Music, Kugou, Migu) and of AcFun: which links name one
song or video, and why the others are refused. Built on the helpers of ``rules``.

NetEase and Kugou route their pages in the fragment (``music.163.com/#/song?id=1``,
``www.kugou.com/song/#hash=…``): ``fragment_route`` reads such a link as the page it routes to before the
rules see it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import SplitResult

from .rules import Match, Url, _id, _other, refuse

# Platforms whose pages route in the fragment.
FRAGMENT_ROUTED = frozenset({"netease", "kugou"})

_AC_ID = re.compile(r"ac\d{1,12}(?:_\d{1,4})?")
_AA_ID = re.compile(r"aa\d{1,12}(?:_\d{1,12}){0,2}")
_NE_ID = re.compile(r"\d{1,20}")
_KG_HASH = re.compile(r"[0-9A-Fa-f]{32}")
_KG_CODE = re.compile(r"[0-9A-Za-z]{4,32}")
_MG_ID = re.compile(r"[0-9A-Z]{8,24}")


def fragment_route(parts: SplitResult) -> SplitResult:
    """The link as its page routes it: ``/#/song?id=1`` is ``/song?id=1`` and ``/song/#hash=…`` carries its
    query in the fragment. Other links come back as they are."""
    fragment = parts.fragment
    if fragment.startswith("/") and parts.path in ("", "/"):
        path, _, query = fragment.partition("?")
        return parts._replace(path=path, query=query, fragment="")
    if "=" in fragment and not parts.query:
        return parts._replace(query=fragment, fragment="")
    return parts


_AC_PAGES = {"u": "profile", "a": "article", "search": "search", "live": "live", "bangumilist": "collection"}


def acfun(u: Url) -> Match:
    """Match AcFun videos (``/v/ac<n>``, a part as ``ac<n>_<p>``, the mobile ``/v/?ac=<n>``) and bangumi
    episodes (``/bangumi/aa<n>…``)."""
    if u.on("live.acfun.cn"):
        return refuse("live")
    a0 = u.at(0)
    if a0 == "v" and len(u.segs) >= 2:
        return _id("video", u.seg(1).lower(), _AC_ID)
    if a0 == "v" and u.query.get("ac"):  # m.acfun.cn/v/?ac=<n>
        return _id("video", "ac" + u.query["ac"], _AC_ID, keep=("ac",))
    if a0 == "bangumi" and len(u.segs) >= 2:
        return _id("bangumi", u.seg(1).lower(), _AA_ID, keep=("ac",))
    return _other(u, _AC_PAGES)


_NE_PAGES = {
    "playlist": "playlist",
    "album": "collection",
    "artist": "profile",
    "user": "profile",
    "djradio": "collection",
    "search": "search",
    "discover": "unsupported_path",
    "mv": "unsupported_path",
    "video": "unsupported_path",
    "program": "unsupported_path",
    "dj": "unsupported_path",
}


def _netease_page(u: Url) -> tuple[str, str]:
    """(section, id) of a NetEase page: ``/song?id=1``, ``/m/song?id=1``, ``/song/1/``."""
    i = 1 if u.at(0) == "m" else 0
    section = u.at(i)
    if section == "discover" and u.at(i + 1) == "toplist":
        return "playlist", u.query.get("id", "")  # a chart is a playlist
    return section, u.seg(i + 1) if len(u.segs) > i + 1 else u.query.get("id", "")


def netease(u: Url) -> Match:
    """Match NetEase Cloud Music songs: ``/song?id=``, ``/#/song?id=``, ``y.music.163.com/m/song?id=``,
    ``/song/<id>/``."""
    section, value = _netease_page(u)
    if section == "song":
        return _id("song", value, _NE_ID, keep=("id",))
    i = 1 if u.at(0) == "m" else 0
    return refuse(_NE_PAGES.get(section, "unsupported_path")) if u.segs[i:] else refuse("not_a_post")


def netease_collection(u: Url) -> Match:
    """A NetEase playlist (``/playlist?id=``, a chart ``/discover/toplist?id=``) or album (``/album?id=``),
    on any of the song links' hosts and forms."""
    section, value = _netease_page(u)
    if section in ("playlist", "album"):
        return _id(section, value, _NE_ID, keep=("id",))
    return refuse("not_a_collection")


_KG_PAGES = {
    "yy": "unsupported_path",
    "singer": "profile",
    "album": "collection",
    "plist": "playlist",
    "special": "playlist",
    "songlist": "playlist",
    "mv": "unsupported_path",
    "mvweb": "unsupported_path",
    "search": "search",
}


def kugou(u: Url) -> Match:
    """Match Kugou songs: by file hash (``/song/#hash=…``, ``?hash=`` on share pages), by mix-song page
    (``/mixsong/<id>.html``), and app share pages (``t1.kugou.com/song.html?id=``, ``/share/<id>.html``,
    ``m.kugou.com/share/song.html?chain=``) whose page names the song."""
    if u.on("fanxing.kugou.com") or u.on("fanxing2.kugou.com"):
        return refuse("live")
    a0 = u.at(0)
    if u.query.get("hash"):
        return _id("hash", u.query["hash"].upper(), _KG_HASH, keep=("hash", "album_id"))
    if a0 == "mixsong" and len(u.segs) == 2:
        return _id("mixsong", u.seg(1).removesuffix(".html"), _KG_CODE)
    if a0 == "song.html" and u.query.get("id"):  # t1.kugou.com/song.html?id=<share id>
        return _id("share", u.query["id"], _KG_CODE, keep=("id",))
    if a0 == "share" and len(u.segs) == 2 and u.at(1) != "song.html":  # www.kugou.com/share/<share id>.html
        return _id("share", u.seg(1).removesuffix(".html"), _KG_CODE)
    if a0 == "share" and u.at(1) == "song.html":
        code = u.query.get("chain") or u.query.get("id") or ""
        return _id("share", code, _KG_CODE, keep=("chain", "id")) if code else refuse("not_a_post")
    if a0 == "song":
        return refuse("not_a_post")  # /song/ without a hash
    return _other(u, _KG_PAGES)


_MG_SECTIONS = {
    "album": "collection",
    "playlist": "playlist",
    "artist": "profile",
    "singer": "profile",
    "mv": "unsupported_path",
    "video": "unsupported_path",
    "search": "search",
    "rank": "playlist",
}


def migu(u: Url) -> Match:
    """Match Migu songs by copyright id: ``music.migu.cn/v3/music/song/<id>``, and the mobile site's
    ``/v3/…`` and ``/v4/…`` song pages."""
    i = 1 if re.fullmatch(r"v\d", u.at(0)) else 0
    if u.at(i) == "music" and len(u.segs) >= i + 2:
        section = u.at(i + 1)
        if section == "song" and len(u.segs) >= i + 3:
            return _id("song", u.seg(i + 2).upper(), _MG_ID)
        return refuse(_MG_SECTIONS.get(section, "unsupported_path"))
    if len(u.segs) <= i:
        return refuse("not_a_post")  # the home page of a site version (/v3)
    return _other(u, {"search": "search", "live": "live"}, i)


MUSIC_RULES: dict[str, Callable[[Url], Match]] = {
    "acfun": acfun,
    "netease": netease,
    "kugou": kugou,
    "migu": migu,
}
