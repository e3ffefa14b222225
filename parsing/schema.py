"""The unified result shape every extractor returns.

Documented fields (platform, title, thumbnail, duration, images[], videos[], audios[] and their items'
fields) never change meaning; additions (id, url, author, per-item headers) are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["direct", "dash", "hls"]


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@dataclass
class Image:
    url: str
    width: int | None = None
    height: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    quoted: bool = False  # from the post this one quotes (X), listed after the post's own media

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "width": self.width, "height": self.height, "headers": self.headers,
                **({"quoted": True} if self.quoted else {})}


@dataclass
class Video:
    url: str
    quality: str | None = None
    mime_type: str | None = "video/mp4"
    width: int | None = None
    height: int | None = None
    has_audio: bool = True
    source: Source = "direct"
    bitrate: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    quoted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url, "quality": self.quality, "mimeType": self.mime_type, "width": self.width,
            "height": self.height, "hasAudio": self.has_audio, "source": self.source,
            **_drop_none({"bitrate": self.bitrate}), "headers": self.headers,
            **({"quoted": True} if self.quoted else {}),
        }


@dataclass
class Audio:
    url: str
    mime_type: str | None = "audio/mp4"
    quality: str | None = None
    bitrate: int | None = None
    source: Source = "direct"
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url, "mimeType": self.mime_type, "quality": self.quality,
            **_drop_none({"bitrate": self.bitrate}), "source": self.source, "headers": self.headers,
        }


@dataclass
class Author:
    name: str | None = None
    id: str | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "id": self.id, "url": self.url}


@dataclass
class Stats:
    """Counts the platform shows, as integers (never "1.2万" or "3K"); None where it gives none."""

    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"views": self.views, "likes": self.likes, "comments": self.comments, "shares": self.shares}

    @property
    def known(self) -> bool:
        return any(v is not None for v in (self.views, self.likes, self.comments, self.shares))


def count(value: Any) -> int | None:
    """A non-negative integer count, or None (strings of digits are read; anything else, such as "1.2万",
    Infinity or a negative number, is no count)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer() and 0 <= value < 2**63:
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < 2**63 else None


@dataclass
class MediaResult:
    platform: str
    title: str = ""
    thumbnail: str | None = None
    duration: float = 0
    images: list[Image] = field(default_factory=list)
    videos: list[Video] = field(default_factory=list)
    audios: list[Audio] = field(default_factory=list)
    id: str | None = None
    url: str | None = None
    author: Author | None = None
    # Richer metadata, where the platform gives it (additions: documented fields keep their meaning).
    description: str | None = None
    uploaded_at: str | None = None  # ISO 8601, UTC
    stats: Stats | None = None

    @property
    def has_media(self) -> bool:
        return bool(self.images or self.videos or self.audios)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "title": self.title or "",
            "thumbnail": self.thumbnail,
            "duration": self.duration or 0,
            "images": [i.to_dict() for i in self.images],
            "videos": [v.to_dict() for v in self.videos],
            "audios": [a.to_dict() for a in self.audios],
            "id": self.id,
            "url": self.url,
            "author": self.author.to_dict() if self.author else None,
            **({"description": self.description} if self.description else {}),
            **({"uploadedAt": self.uploaded_at} if self.uploaded_at else {}),
            **({"stats": self.stats.to_dict()} if self.stats and self.stats.known else {}),
        }


# --- the other operations: /live and /collection (DESIGN: each operation's shape lives here) ---------------

StreamFormat = Literal["hls", "flv"]


@dataclass
class Stream:
    """One way to watch a live room: an HLS playlist or an FLV stream, with the headers it needs."""

    url: str
    format: StreamFormat
    quality: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "format": self.format, "quality": self.quality, "headers": self.headers}


@dataclass
class LiveResult:
    """A room that is live now (a room that is not raises ContentUnavailable(reason="offline"))."""

    platform: str
    title: str = ""
    thumbnail: str | None = None
    author: Author | None = None
    streams: list[Stream] = field(default_factory=list)
    id: str | None = None
    url: str | None = None

    @property
    def has_media(self) -> bool:
        return bool(self.streams)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "title": self.title or "",
            "author": self.author.to_dict() if self.author else None,
            "thumbnail": self.thumbnail,
            "streams": [s.to_dict() for s in self.streams],
            "id": self.id,
            "url": self.url,
        }


COLLECTION_PAGE_SIZE = 50


@dataclass
class CollectionItem:
    """One entry of a collection; ``url`` is a link POST /api/v1/parse accepts. ``index`` counts from 1
    over the whole collection, not the page."""

    index: int
    id: str
    url: str
    title: str = ""
    duration: float | None = None
    thumbnail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "title": self.title or "", "url": self.url,
                "duration": self.duration, "thumbnail": self.thumbnail}


@dataclass
class CollectionPage:
    """One page (at most COLLECTION_PAGE_SIZE items) of a playlist, album, mix or multi-part video."""

    platform: str
    page: int
    total: int
    items: list[CollectionItem] = field(default_factory=list)
    title: str = ""
    thumbnail: str | None = None
    author: Author | None = None
    id: str | None = None
    url: str | None = None

    @property
    def has_media(self) -> bool:
        return bool(self.items)

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page * COLLECTION_PAGE_SIZE < self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "title": self.title or "",
            "author": self.author.to_dict() if self.author else None,
            "thumbnail": self.thumbnail,
            "total": self.total,
            "page": self.page,
            "nextPage": self.next_page,
            "items": [i.to_dict() for i in self.items],
            "id": self.id,
            "url": self.url,
        }


def iso_from_timestamp(value: Any) -> str | None:
    """Unix seconds as ISO 8601 UTC (``2026-11-30T07:35:19Z``), or None for anything that is not a sane time."""
    import datetime as dt

    seconds = count(value)
    if seconds is None or not 946684800 <= seconds <= 4102444800:  # 2000 to 2100
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
