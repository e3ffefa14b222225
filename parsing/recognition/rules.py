"""Per-platform path rules: which paths name a single post, and why the others are refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Url:
    """A link on a platform's site: cleaned host, percent-decoded path segments, first value per query key."""

    host: str
    segs: tuple[str, ...]
    query: dict[str, str]

    def seg(self, i: int) -> str:
        """Return path segment i as written, or ""."""
        return self.segs[i] if i < len(self.segs) else ""

    def at(self, i: int) -> str:
        """Return path segment i lowercased, or ""."""
        return self.seg(i).lower()

    def on(self, domain: str) -> bool:
        """Return whether the host is this domain or one of its subdomains."""
        return self.host == domain or self.host.endswith("." + domain)


@dataclass(frozen=True)
class Match:
    """A rule's verdict: a supported kind and id, or a refusal reason; plus the query keys worth keeping."""

    kind: str | None = None
    id: str | None = None
    reason: str | None = None
    short: bool = False
    keep: tuple[str, ...] = ()
    whole_query: bool = False


SHORT_LINK = Match(kind="short", short=True)

_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}(?:\.html?)?")
_LONG_ID = re.compile(r"\d{6,24}")
_X_ID = re.compile(r"\d{1,20}")
_X_USER = re.compile(r"[A-Za-z0-9_]{1,50}")
_YT_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_IG_CODE = re.compile(r"[A-Za-z0-9_-]{5,64}")
_IG_USER = re.compile(r"[A-Za-z0-9._]{1,30}")
_NOTE_ID = re.compile(r"[0-9a-fA-F]{24}")
_BILI_VIDEO = re.compile(r"BV[0-9A-Za-z]{10}|av\d{1,20}")
_BILI_EPSS = re.compile(r"(?:ep|ss)\d{1,20}")
_KS_ID = re.compile(r"[A-Za-z0-9_-]{4,64}")
# Numeric post id, or a base62 mblogid (never all lowercase letters, which tells it from page names).
_WB_POST = re.compile(r"\d{10,20}|(?=[a-z]*[A-Z0-9])[A-Za-z0-9]{8,10}")
_WB_UID = re.compile(r"\d{5,12}")
_WB_FID = re.compile(r"\d{3,5}:[0-9A-Za-z]{6,32}")


def refuse(reason: str) -> Match:
    """Return a refusal with a stable snake_case reason."""
    return Match(reason=reason)


def _id(kind: str, value: str, pattern: re.Pattern[str], keep: tuple[str, ...] = ()) -> Match:
    """Return a supported match when the id has the platform's shape, else an invalid_id refusal."""
    return Match(kind=kind, id=value, keep=keep) if pattern.fullmatch(value) else refuse("invalid_id")


def share_code(value: str) -> Match:
    """Return a short-link match when a share code is present, else a not_a_post refusal."""
    return SHORT_LINK if _CODE.fullmatch(value) else refuse("not_a_post")


def _other(u: Url, reasons: dict[str, str], index: int = 0) -> Match:
    """Return the refusal for a known non-post section, not_a_post for a bare host, else unsupported_path."""
    if not u.segs:
        return refuse("not_a_post")
    return refuse(reasons.get(u.at(index), "unsupported_path"))


_TIKTOK_USER_PAGES = {"live": "live", "collection": "collection", "playlist": "playlist"}
_TIKTOK_PAGES = {"live": "live", "search": "search", "tag": "topic", "discover": "search"}


def tiktok(u: Url) -> Match:
    """Match TikTok video and photo posts, embeds and /t/ share links."""
    a0, a1 = u.at(0), u.at(1)
    if a0 == "t":
        return share_code(u.seg(1))
    if a0 == "tiktoklite" or u.on("lite.tiktok.com"):
        return refuse("tiktok_lite")
    if a0.startswith("@"):
        if a1 in ("video", "photo"):
            return _id(a1, u.seg(2), _LONG_ID)
        return refuse("profile") if len(u.segs) == 1 else refuse(_TIKTOK_USER_PAGES.get(a1, "unsupported_path"))
    if a0 == "embed":
        return _id("video", u.seg(2) if a1 == "v2" else u.seg(1), _LONG_ID)
    if a0 == "v" and len(u.segs) == 2:
        return _id("video", u.seg(1).removesuffix(".html"), _LONG_ID)
    if a0 == "i18n" and a1 == "share" and u.at(2) in ("video", "photo"):
        return _id(u.at(2), u.seg(3), _LONG_ID)
    return _other(u, _TIKTOK_PAGES)


_DOUYIN_KINDS = {"video": "video", "note": "note", "shipin": "video", "vsdetail": "video", "slides": "note"}
_DOUYIN_PAGES = {
    "user": "profile",
    "search": "search",
    "collection": "collection",
    "mix": "collection",
    "follow": "follow",
    "live": "live",
    "root": "live",
    "hashtag": "topic",
    "topic": "topic",
}


def douyin(u: Url) -> Match:
    """Match Douyin videos and image notes, their share pages, and videos opened over a page (modal_id).
    Everything on the live hosts (live.douyin.com, the app's webcast.amemv.com share pages) is a live page."""
    if u.on("live.douyin.com") or u.on("webcast.amemv.com"):
        return refuse("live")
    if _LONG_ID.fullmatch(u.query.get("modal_id", "")):
        return Match(kind="video", id=u.query["modal_id"], keep=("modal_id",))
    i = 1 if u.at(0) == "share" else 0
    kind = _DOUYIN_KINDS.get(u.at(i))
    if kind:
        return _id(kind, u.seg(i + 1), _LONG_ID)
    return _other(u, _DOUYIN_PAGES, i)


_YT_CHANNEL_TABS = {"live": "live", "streams": "live", "community": "community_post", "posts": "community_post"}
_YT_PAGES = {
    "playlist": "playlist",
    "post": "community_post",
    "results": "search",
    "search": "search",
    "hashtag": "topic",
    "live": "live",
    "shorts": "not_a_post",
}


def youtube(u: Url) -> Match:
    """Match single YouTube videos: watch, youtu.be, Shorts, live replays and embeds."""
    a0 = u.at(0)
    if u.on("youtu.be"):
        return _id("video", u.seg(0), _YT_ID) if u.segs else refuse("not_a_post")
    if a0 == "watch":
        video = u.query.get("v", "")
        if not video:
            return refuse("playlist" if "list" in u.query else "not_a_post")
        return _id("video", video, _YT_ID, keep=("v",))
    if a0 in ("shorts", "live", "embed", "v", "e") and len(u.segs) >= 2:
        if u.at(1) == "videoseries":
            return refuse("playlist")
        return _id("shorts" if a0 == "shorts" else "video", u.seg(1), _YT_ID)
    if a0.startswith("@") or a0 in ("channel", "c", "user"):
        return refuse(_YT_CHANNEL_TABS.get(u.at(1 if a0.startswith("@") else 2), "profile"))
    return _other(u, _YT_PAGES)


_X_PROFILE_TABS = frozenset(
    {
        "with_replies",
        "media",
        "likes",
        "highlights",
        "followers",
        "following",
        "verified_followers",
        "articles",
        "superfollows",
        "affiliates",
        "photo",
        "header_photo",
    }
)
_X_PAGES = {
    "home": "unsupported_path",
    "explore": "explore",
    "search": "search",
    "hashtag": "topic",
    "messages": "direct_message",
    "notifications": "unsupported_path",
    "settings": "unsupported_path",
    "compose": "unsupported_path",
}
_X_I_PAGES = {
    "spaces": "space",
    "broadcasts": "live",
    "lists": "collection",
    "bookmarks": "collection",
    "events": "topic",
    "topics": "topic",
}


def twitter(u: Url) -> Match:
    """Match X/Twitter posts with a numeric status id (trailing /photo/N or /video/N allowed)."""
    a0, a1 = u.at(0), u.at(1)
    if a0 == "i":
        if a1 == "status":
            return _id("post", u.seg(2), _X_ID)
        if a1 == "web" and u.at(2) == "status":
            return _id("post", u.seg(3), _X_ID)
        return refuse(_X_I_PAGES.get(a1, "unsupported_path"))
    if not u.segs or a0 in _X_PAGES or not _X_USER.fullmatch(u.seg(0)):
        return _other(u, _X_PAGES)
    if a1 in ("status", "statuses"):
        return _id("post", u.seg(2), _X_ID)
    if len(u.segs) == 1 or a1 in _X_PROFILE_TABS:
        return refuse("profile")
    return refuse("collection" if a1 == "lists" else "unsupported_path")


_IG_KINDS = {"p": "post", "reel": "reel", "reels": "reel", "tv": "video"}
_IG_PAGES = {
    "stories": "story",
    "s": "highlight",
    "explore": "explore",
    "direct": "direct_message",
    "reels": "not_a_post",
}
_IG_NOT_USERS = frozenset(
    {"accounts", "about", "legal", "developer", "web", "api", "graphql", "challenge", "emails", "oauth"}
)
_IG_PROFILE_TABS = frozenset({"reels", "tagged", "saved", "guides", "feed", "channel", "followers", "following"})


def instagram(u: Url) -> Match:
    """Match Instagram posts, Reels, IGTV, embeds and /r/ or /share/ redirects."""
    a0, a1 = u.at(0), u.at(1)
    if a0 in _IG_KINDS and len(u.segs) >= 2 and a1 != "audio":
        return _id(_IG_KINDS[a0], u.seg(1), _IG_CODE)
    if a0 in ("r", "share") and len(u.segs) >= 2:
        return SHORT_LINK if all(_CODE.fullmatch(s) for s in u.segs[1:3]) else refuse("not_a_post")
    if a0 == "stories" and a1 == "highlights":
        return refuse("highlight")
    if not u.segs or a0 in _IG_PAGES or a0 in _IG_NOT_USERS or not _IG_USER.fullmatch(u.seg(0)):
        return _other(u, _IG_PAGES)
    if a1 in ("p", "reel", "tv") and len(u.segs) >= 3:
        return _id(_IG_KINDS[a1], u.seg(2), _IG_CODE)
    if len(u.segs) == 1 or a1 in _IG_PROFILE_TABS:
        return refuse("profile")
    return refuse("live" if a1 == "live" else "unsupported_path")


_XHS_PAGES = {
    "search_result": "search",
    "board": "collection",
    "explore": "explore",
    "user": "profile",
    "livestream": "live",
    "page": "topic",
}


def xiaohongshu(u: Url) -> Match:
    """Match Xiaohongshu notes by their 24-hex id, keeping the xsec_token extraction needs."""
    a0, keep = u.at(0), ("xsec_token",)
    if a0 == "explore" and len(u.segs) >= 2:
        return _id("note", u.seg(1), _NOTE_ID, keep)
    if a0 == "discovery" and u.at(1) == "item":
        return _id("note", u.seg(2), _NOTE_ID, keep)
    if a0 == "user" and u.at(1) == "profile" and len(u.segs) >= 4:
        # A note opened from a profile page: /user/profile/<user id>/<note id>.
        return _id("note", u.seg(3), _NOTE_ID, keep)
    return _other(u, _XHS_PAGES)


_BILI_PAGES = {
    "watchlater": "playlist",
    "list": "playlist",
    "medialist": "collection",
    "favlist": "collection",
    "space": "profile",
    "search": "search",
    "read": "article",
}


def _bili_id(value: str) -> str:
    """Return a Bilibili video id with its canonical prefix case ("BV…", "av…")."""
    return "BV" + value[2:] if value[:2].lower() == "bv" else value[:2].lower() + value[2:]


def bilibili(u: Url) -> Match:
    """Match Bilibili BV/av videos, list pages carrying a bvid, and bangumi or course episodes and seasons."""
    if u.on("space.bilibili.com"):
        return refuse("collection" if u.at(1) in ("favlist", "fav") else "profile")
    if u.on("live.bilibili.com") or u.on("search.bilibili.com"):
        return refuse("live" if u.on("live.bilibili.com") else "search")
    a0, a1 = u.at(0), u.at(1)
    i = 1 if a0 == "s" and a1 == "video" else 0
    if u.at(i) == "video" and len(u.segs) > i + 1:
        return _id("video", _bili_id(u.seg(i + 1)), _BILI_VIDEO, keep=("p",))
    if a0 == "list" and a1 != "watchlater" and "bvid" in u.query:
        return _id("video", _bili_id(u.query["bvid"]), _BILI_VIDEO, keep=("bvid",))
    if a0 in ("bangumi", "cheese") and a1 == "play" and len(u.segs) >= 3:
        match = _id("episode", u.at(2), _BILI_EPSS)
        return replace(match, kind="season") if u.at(2).startswith("ss") else match
    return _other(u, _BILI_PAGES)


_KS_PAGES = {
    "profile": "profile",
    "u": "profile",
    "search": "search",
    "live": "live",
    "playlist": "collection",
    "collection": "collection",
}


def kuaishou(u: Url) -> Match:
    """Match Kuaishou single videos (/short-video/, /fw/photo/, /fw/long-video/) and share links."""
    if u.on("live.kuaishou.com"):
        return refuse("live")
    a0, a1 = u.at(0), u.at(1)
    if a0 == "short-video" and len(u.segs) >= 2:
        return _id("video", u.seg(1), _KS_ID)
    if a0 == "fw":
        if a1 in ("photo", "long-video"):
            return _id("video", u.seg(2), _KS_ID)
        return refuse({"user": "profile", "live": "live"}.get(a1, "unsupported_path"))
    if a0 == "f" and len(u.segs) >= 2:
        return share_code(u.seg(1))
    if u.host == "v.kuaishou.com" and len(u.segs) == 1:
        return share_code(u.seg(0))
    return _other(u, _KS_PAGES)


_WB_HOSTS = {
    "s.weibo.com": "search",
    "s.weibo.cn": "search",
    "huati.weibo.com": "topic",
    "huati.weibo.cn": "topic",
    "card.weibo.com": "article",
}
_WB_PAGES = {
    "u": "profile",
    "n": "profile",
    "p": "profile",
    "profile": "profile",
    "ttarticle": "article",
    "article": "article",
    "l": "live",
    "live": "live",
    "huati": "topic",
    "topic": "topic",
    "hot": "search",
    "search": "search",
    "fav": "collection",
    "favorites": "collection",
    "collection": "collection",
}
_WB_USER_TABS = {"fav": "collection", "follow": "profile", "fans": "profile", "album": "profile"}
_WB_TOPIC_CONTAINERS = ("100808", "231522")


def weibo(u: Url) -> Match:
    """Match Weibo posts (numeric id or base62 mblogid), video pages, and mapp.api /fx/ share links."""
    a0, a1 = u.at(0), u.at(1)
    if u.on("mapp.api.weibo.cn"):
        return share_code(u.seg(1)) if a0 == "fx" else _other(u, {})
    reason = next((reason for host, reason in _WB_HOSTS.items() if u.on(host)), None)
    if reason:
        return refuse(reason)
    if u.on("video.weibo.com"):
        if a0 != "show":
            return _other(u, {})
        return _id("video", u.query.get("fid") or u.seg(1), _WB_FID, keep=("fid",))
    if a0 == "tv" and a1 == "show":
        return _id("video", u.seg(2), _WB_FID)
    if a0 in ("status", "detail") and len(u.segs) >= 2:
        return _id("post", u.seg(1), _WB_POST)
    if a0 == "p" and (
        a1.startswith(_WB_TOPIC_CONTAINERS) or u.query.get("containerid", "").startswith(_WB_TOPIC_CONTAINERS)
    ):
        return refuse("topic")
    if _WB_UID.fullmatch(u.seg(0)):
        if len(u.segs) == 1 or a1 in _WB_USER_TABS:
            return refuse(_WB_USER_TABS.get(a1, "profile"))
        return _id("post", u.seg(1), _WB_POST)
    return _other(u, _WB_PAGES)


RULES: dict[str, Callable[[Url], Match]] = {
    "tiktok": tiktok,
    "douyin": douyin,
    "youtube": youtube,
    "twitter": twitter,
    "instagram": instagram,
    "xiaohongshu": xiaohongshu,
    "bilibili": bilibili,
    "kuaishou": kuaishou,
    "weibo": weibo,
}
