"""Path rules of the operations beside /parse: which links name a live room (/live) or a collection
(/collection), and why the others are refused.

Each table maps a platform to a rule over the same ``Url`` the /parse rules read. A platform without a
rule for an operation refuses it with ``operation_not_supported``. Share links are decided by the /parse
rules (they are short links for every operation the platform serves).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .music import netease_collection
from .rules import _BILI_VIDEO, _LONG_ID, _YT_ID, Match, Url, _bili_id, _id, refuse

_ROOM = re.compile(r"\d{1,20}")
_KS_USER = re.compile(r"[A-Za-z0-9_-]{3,64}")
_TT_USER = re.compile(r"[A-Za-z0-9_.]{1,64}")
_YT_LIST = re.compile(r"[A-Za-z0-9_-]{2,64}")
_YT_CHANNEL = re.compile(r"UC[A-Za-z0-9_-]{22}")
_YT_NAME = re.compile(r"@?[\w.\-]{1,100}")
# Lists only their owner can open (watch later, liked videos, liked music).
_YT_PRIVATE_LISTS = frozenset({"WL", "LL", "LM"})
_SID = re.compile(r"\d{1,20}")

NOT_LIVE, NOT_A_COLLECTION = "not_live", "not_a_collection"


# --- /live --------------------------------------------------------------------------------------------------


def bilibili_live(u: Url) -> Match:
    """A Bilibili live room: live.bilibili.com/<room> (also /h5/<room> and /blanc/<room>)."""
    if not u.on("live.bilibili.com"):
        return refuse(NOT_LIVE)
    i = 1 if u.at(0) in ("h5", "blanc") else 0
    return _id("live", u.seg(i), _ROOM) if u.seg(i) and len(u.segs) == i + 1 else refuse(NOT_LIVE)


def douyin_live(u: Url) -> Match:
    """A Douyin live room by its web id (kind "live"): live.douyin.com/<id>, www.douyin.com/root/live/<id>,
    www.douyin.com/follow/live/<id>; or by its room id (kind "room", another number than the web id): the app's
    share page webcast.amemv.com/douyin/webcast/reflow/<room id>, where a live room's v.douyin.com link leads."""
    if u.on("webcast.amemv.com"):
        if (u.at(0), u.at(1), u.at(2)) == ("douyin", "webcast", "reflow") and len(u.segs) == 4:
            return _id("room", u.seg(3), _ROOM)
        return refuse(NOT_LIVE)
    if u.on("live.douyin.com"):
        return _id("live", u.seg(0), _ROOM) if len(u.segs) == 1 else refuse(NOT_LIVE)
    if u.at(0) in ("root", "follow") and u.at(1) == "live" and len(u.segs) == 3:
        return _id("live", u.seg(2), _ROOM)
    return refuse(NOT_LIVE)


def kuaishou_live(u: Url) -> Match:
    """A Kuaishou live room by its streamer: live.kuaishou.com/u/<user id>."""
    if u.on("live.kuaishou.com") and u.at(0) == "u" and len(u.segs) == 2:
        return _id("live", u.seg(1), _KS_USER)
    return refuse(NOT_LIVE)


def tiktok_live(u: Url) -> Match:
    """A TikTok live room by its streamer: www.tiktok.com/@<user>/live (the id is the user name, no @)."""
    if u.at(0).startswith("@") and u.at(1) == "live" and len(u.segs) == 2:
        return _id("live", u.seg(0)[1:], _TT_USER)
    return refuse(NOT_LIVE)


def youtube_live(u: Url) -> Match:
    """A YouTube stream: a watch link, youtu.be or /live/<id> (kind "live", the video id; whether it is
    live now is known only by asking), or a channel's /live page (kind "channel_live": its current stream)."""
    a0 = u.at(0)
    if u.on("youtu.be"):
        return _id("live", u.seg(0), _YT_ID) if len(u.segs) == 1 else refuse(NOT_LIVE)
    if a0 == "watch" and u.query.get("v"):
        return _id("live", u.query["v"], _YT_ID, keep=("v",))
    if a0 == "live" and len(u.segs) == 2:
        return _id("live", u.seg(1), _YT_ID)
    if a0.startswith("@") and u.at(1) == "live" and len(u.segs) == 2:
        return _id("channel_live", u.seg(0), _YT_NAME)
    if a0 in ("channel", "c", "user") and u.at(2) == "live" and len(u.segs) == 3:
        return _id("channel_live", u.seg(1), _YT_CHANNEL if a0 == "channel" else _YT_NAME)
    return refuse(NOT_LIVE)


# --- /collection --------------------------------------------------------------------------------------------


def youtube_collection(u: Url) -> Match:
    """A YouTube playlist: /playlist?list=, a watch link carrying list=, /embed/videoseries?list=."""
    a0 = u.at(0)
    named = (a0 in ("playlist", "watch") and len(u.segs) == 1) or (a0 == "embed" and u.at(1) == "videoseries")
    if u.on("youtu.be") and len(u.segs) == 1:
        named = True
    listed = u.query.get("list", "")
    if not named or not listed:
        return refuse(NOT_A_COLLECTION)
    if listed in _YT_PRIVATE_LISTS:
        return refuse("private")
    keep = ("list",) if a0 == "playlist" else ("v", "list")
    return _id("playlist", listed, _YT_LIST, keep=keep)


def bilibili_collection(u: Url) -> Match:
    """A Bilibili multi-part video (a BV/av link: kind "parts") or an uploader's collection: the season
    (合集) and series (列表) pages space.bilibili.com/<mid>/channel/{collection,series}detail?sid= and
    space.bilibili.com/<mid>/lists/<id>?type={season,series} (the id names the season or series)."""
    if u.on("space.bilibili.com"):
        if not _SID.fullmatch(u.seg(0)):
            return refuse(NOT_A_COLLECTION)
        a1, a2 = u.at(1), u.at(2)
        if a1 == "channel" and a2 in ("collectiondetail", "seriesdetail") and len(u.segs) == 3:
            kind = "season" if a2 == "collectiondetail" else "series"
            return _id(kind, u.query.get("sid", ""), _SID, keep=("sid",))
        if a1 == "lists" and len(u.segs) == 3:
            kind = "series" if u.query.get("type", "").lower() == "series" else "season"
            return _id(kind, u.seg(2), _SID, keep=("type",))
        if a1 in ("favlist", "fav"):
            return refuse("favorites")
        return refuse(NOT_A_COLLECTION)
    if u.on("live.bilibili.com") or u.on("search.bilibili.com"):
        return refuse(NOT_A_COLLECTION)
    i = 1 if u.at(0) == "s" and u.at(1) == "video" else 0
    if u.at(i) == "video" and len(u.segs) > i + 1:
        return _id("parts", _bili_id(u.seg(i + 1)), _BILI_VIDEO)
    return refuse(NOT_A_COLLECTION)


def douyin_collection(u: Url) -> Match:
    """A Douyin mix (合集): www.douyin.com/collection/<id>, /mix/detail/<id>, and the share page
    www.iesdouyin.com/share/mix/detail/<id>/."""
    if u.on("live.douyin.com") or u.on("webcast.amemv.com"):
        return refuse(NOT_A_COLLECTION)
    i = 1 if u.at(0) == "share" else 0
    if u.at(i) == "collection" and len(u.segs) == i + 2:
        return _id("mix", u.seg(i + 1), _LONG_ID)
    if u.at(i) == "mix" and u.at(i + 1) == "detail" and len(u.segs) == i + 3:
        return _id("mix", u.seg(i + 2), _LONG_ID)
    return refuse(NOT_A_COLLECTION)


LIVE_RULES: dict[str, Callable[[Url], Match]] = {
    "bilibili": bilibili_live,
    "douyin": douyin_live,
    "kuaishou": kuaishou_live,
    "tiktok": tiktok_live,
    "youtube": youtube_live,
}
COLLECTION_RULES: dict[str, Callable[[Url], Match]] = {
    "youtube": youtube_collection,
    "bilibili": bilibili_collection,
    "douyin": douyin_collection,
    "netease": netease_collection,  # playlists and albums (recognition/music.py)
}
# operation -> platform -> rule (/parse's rules are rules.RULES).
OPERATION_RULES: dict[str, dict[str, Callable[[Url], Match]]] = {
    "live": LIVE_RULES,
    "collection": COLLECTION_RULES,
}
