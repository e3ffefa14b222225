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
        }
