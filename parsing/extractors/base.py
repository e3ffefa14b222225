"""The extractor interface and the typed errors every extractor raises."""

from __future__ import annotations

from typing import ClassVar

from parsing.recognition import Recognition
from parsing.schema import MediaResult


class ExtractorError(Exception):
    """Base of every extraction failure. ``reason`` is a stable snake_case word shown to customers;
    ``permanent`` says whether retrying the same link can help."""

    reason: str = "upstream_error"
    permanent: bool = False

    def __init__(self, message: str = "", *, reason: str | None = None) -> None:
        if reason:
            self.reason = reason
        super().__init__(message or self.reason)


class UnsupportedLink(ExtractorError):
    """Not a single supported media post (answers 400 / 302)."""

    reason, permanent = "unsupported", True


class ContentUnavailable(ExtractorError):
    """Public link, but no downloadable media (answers 200 / 304 with the reason): private, deleted,
    login_required, region_blocked, live, drm, no_media or unavailable."""

    reason, permanent = "unavailable", True


class UpstreamFailure(ExtractorError):
    """The platform blocked us or answered something we could not read (200 / 304 upstream_error)."""

    reason, permanent = "upstream_error", False


class UpstreamTimeout(ExtractorError):
    """The platform did not answer in time (504 upstream_timeout)."""

    reason, permanent = "upstream_timeout", False


class Extractor:
    """Turns a recognised link into a MediaResult. One instance per worker process, reused."""

    platform: ClassVar[str] = ""

    def extract(self, target: Recognition) -> MediaResult:
        raise NotImplementedError
