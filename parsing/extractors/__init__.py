"""The extractor registry: platform name → extractor class, replaceable through a setting.

``EASYDOWN_EXTRACTORS = {"tiktok": "myplugins.tiktok.Extractor"}`` replaces one entry, as Django's
pluggable backends do. Instances are built once per process and reused.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Extractor

DEFAULT_EXTRACTORS: dict[str, str] = {
    "tiktok": "parsing.extractors.tiktok.TikTokExtractor",
    "douyin": "parsing.extractors.douyin.DouyinExtractor",
    "youtube": "parsing.extractors.youtube.YouTubeExtractor",
    "twitter": "parsing.extractors.twitter.TwitterExtractor",
    "instagram": "parsing.extractors.instagram.InstagramExtractor",
    "xiaohongshu": "parsing.extractors.xiaohongshu.XiaohongshuExtractor",
    "bilibili": "parsing.extractors.bilibili.BilibiliExtractor",
    "kuaishou": "parsing.extractors.kuaishou.KuaishouExtractor",
    "weibo": "parsing.extractors.weibo.WeiboExtractor",
    "acfun": "parsing.extractors.acfun.AcfunExtractor",
    "netease": "parsing.extractors.netease.NeteaseExtractor",
    "kugou": "parsing.extractors.kugou.KugouExtractor",
    "migu": "parsing.extractors.migu.MiguExtractor",
}


def extractor_paths() -> dict[str, str]:
    return {**DEFAULT_EXTRACTORS, **settings.EASYDOWN_EXTRACTORS}


@cache
def _instance(path: str) -> Extractor:
    return import_string(path)()


@cache
def _class(path: str) -> type[Extractor]:
    return import_string(path)


def extractor_class(platform: str) -> type[Extractor] | None:
    """The class of a platform's extractor without building one (the API asks it which operations it serves)."""
    path = extractor_paths().get(platform)
    return _class(path) if path else None


def get_extractor(platform: str) -> Extractor | None:
    """The process-wide extractor for a platform, or None when none is configured."""
    path = extractor_paths().get(platform)
    return _instance(path) if path else None
