"""Which platform owns a host: sites, share-link hosts and media CDNs."""

from __future__ import annotations

import re

SITE, SHORT, MEDIA = "site", "short", "media"

# A host belongs to a domain when it equals it or is a real subdomain of it; the most specific domain
# wins. SHORT domains serve only share links that must be expanded; MEDIA domains are CDNs.
DOMAINS: dict[str, dict[str, str]] = {
    "tiktok": {
        "tiktok.com": SITE,
        "vm.tiktok.com": SHORT,
        "vt.tiktok.com": SHORT,
        "tiktokcdn.com": MEDIA,
        "tiktokcdn-us.com": MEDIA,
        "tiktokv.com": MEDIA,
    },
    "douyin": {
        "douyin.com": SITE,
        "iesdouyin.com": SITE,
        "v.douyin.com": SHORT,
        # The app's live share pages: a live room's v.douyin.com link leads to webcast.amemv.com/douyin/webcast/
        # reflow/<room id>. Only this host of amemv.com (its other hosts are app APIs, not pages).
        "webcast.amemv.com": SITE,
        "douyinpic.com": MEDIA,
        "douyinvod.com": MEDIA,
        "douyinstatic.com": MEDIA,
    },
    "youtube": {
        "youtube.com": SITE,
        "youtu.be": SITE,
        "youtube-nocookie.com": SITE,
        "ytimg.com": MEDIA,
        "googlevideo.com": MEDIA,
    },
    "twitter": {
        "x.com": SITE,
        "twitter.com": SITE,
        "t.co": SHORT,
        "pic.x.com": SHORT,
        "pic.twitter.com": SHORT,
        "twimg.com": MEDIA,
    },
    "instagram": {"instagram.com": SITE, "instagr.am": SITE, "cdninstagram.com": MEDIA},
    "xiaohongshu": {"xiaohongshu.com": SITE, "xhslink.com": SHORT, "xhscdn.com": MEDIA},
    "bilibili": {
        "bilibili.com": SITE,
        "b23.tv": SHORT,
        "bili.im": SHORT,
        "bili2233.cn": SHORT,
        "hdslb.com": MEDIA,
        "bilivideo.com": MEDIA,
        "bilivideo.cn": MEDIA,
    },
    "kuaishou": {
        "kuaishou.com": SITE,
        "gifshow.com": SITE,
        "chenzhongtech.com": SITE,
        "kwimgs.com": MEDIA,
        "yximgs.com": MEDIA,
        "kwaicdn.com": MEDIA,
    },
    "weibo": {
        "weibo.com": SITE,
        "weibo.cn": SITE,
        "t.cn": SHORT,
        "sinaimg.cn": MEDIA,
        "weibocdn.com": MEDIA,
    },
    "acfun": {"acfun.cn": SITE, "aixifan.com": MEDIA},
    # Only the music site of NetEase's 163.com (news, mail and games live on the others).
    "netease": {"music.163.com": SITE, "163cn.tv": SHORT, "music.126.net": MEDIA},
    "kugou": {"kugou.com": SITE, "kgimg.com": MEDIA},
    "migu": {
        "music.migu.cn": SITE,
        "c.migu.cn": SHORT,
        "freetyst.nf.migu.cn": MEDIA,
        "cdnmusic.migu.cn": MEDIA,
        "d.musicapp.migu.cn": MEDIA,
    },
}
_BY_DOMAIN: dict[str, tuple[str, str]] = {
    domain: (platform, role) for platform, domains in DOMAINS.items() for domain, role in domains.items()
}
_MAX_LABELS = max(domain.count(".") + 1 for domain in _BY_DOMAIN)
_HOST_CHARS = re.compile(r"[a-z0-9.-]{1,253}")


def clean_host(host: str) -> str | None:
    """Return the host lowercased without port and trailing dot, or None when it is not a DNS name."""
    host = host.strip().lower()
    name, _, port = host.rpartition(":")
    if name and port.isdigit():
        host = name
    host = host.rstrip(".")
    if not _HOST_CHARS.fullmatch(host) or "" in host.split("."):
        return None
    return host


def lookup(host: str) -> tuple[str, str] | None:
    """Return (platform, role) of the most specific known domain owning a cleaned host, or None."""
    labels = host.split(".")
    # Only the last few labels can name a known domain, which keeps this constant-time on long hosts.
    for n in range(min(len(labels), _MAX_LABELS), 0, -1):
        hit = _BY_DOMAIN.get(".".join(labels[-n:]))
        if hit:
            return hit
    return None


def platform_for_host(host: str) -> str | None:
    """Return the platform owning this host (site, share-link or CDN host, port allowed), or None."""
    cleaned = clean_host(host) if isinstance(host, str) else None
    hit = lookup(cleaned) if cleaned else None
    return hit[0] if hit else None
