"""The request headers a media download needs, per platform (the API document's header table)."""

from __future__ import annotations

from parsing.http import BROWSER_UA

_REFERERS = {
    "douyin": "https://www.douyin.com/",
    "tiktok": "https://www.tiktok.com/",
    "bilibili": "https://www.bilibili.com/",
    "xiaohongshu": "https://www.xiaohongshu.com/",
    "weibo": "https://weibo.com/",
    "youtube": "https://www.youtube.com/",
    "instagram": "https://www.instagram.com/",
    "kuaishou": "https://www.kuaishou.com/",
    "twitter": "https://x.com/",
    "acfun": "https://www.acfun.cn/",
    "netease": "https://music.163.com/",
    "kugou": "https://www.kugou.com/",
    "migu": "https://music.migu.cn/",
}


def download_headers(platform: str) -> dict[str, str]:
    """Referer, User-Agent (and Origin for YouTube) to send when fetching this platform's media."""
    headers = {"User-Agent": BROWSER_UA}
    if platform in _REFERERS:
        headers["Referer"] = _REFERERS[platform]
    if platform == "youtube":
        headers["Origin"] = "https://www.youtube.com"
    return headers
