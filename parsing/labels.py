"""How platforms are named and coloured on the dashboard."""

from __future__ import annotations

from .recognition import PLATFORMS

PLATFORM_LABELS: dict[str, str] = {
    "tiktok": "TikTok",
    "douyin": "Douyin",
    "youtube": "YouTube",
    "twitter": "X / Twitter",
    "instagram": "Instagram",
    "xiaohongshu": "Xiaohongshu",
    "bilibili": "Bilibili",
    "kuaishou": "Kuaishou",
    "weibo": "Weibo",
    "acfun": "AcFun",
    "netease": "NetEase Cloud Music",
    "kugou": "Kugou",
    "migu": "Migu",
}

# Distinct, print-safe colours (the Tableau 10 palette without its grey, then Tableau 20's light tints), one per
# platform.
PLATFORM_COLORS: dict[str, str] = {
    "tiktok": "#4e79a7",
    "douyin": "#f28e2b",
    "youtube": "#e15759",
    "twitter": "#76b7b2",
    "instagram": "#b07aa1",
    "xiaohongshu": "#ff9da7",
    "bilibili": "#59a14f",
    "kuaishou": "#edc948",
    "weibo": "#9c755f",
    "acfun": "#a0cbe8",
    "netease": "#ffbe7d",
    "kugou": "#8cd17d",
    "migu": "#d4a6c8",
}

PLATFORM_CHOICES: list[tuple[str, str]] = [(p, PLATFORM_LABELS.get(p, p)) for p in PLATFORMS]


def platform_label(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform)
