"""The extractor interface and the typed errors every extractor raises."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ClassVar, ParamSpec, TypeVar

from parsing.recognition import Recognition
from parsing.schema import CollectionPage, LiveResult, MediaResult

P = ParamSpec("P")
R = TypeVar("R")


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


# What reading a payload of an unexpected shape raises in Python: a missing key or index, a None where a
# dict was, a string where a number was, Infinity in a float conversion, nesting deeper than the stack.
SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError, OverflowError, RecursionError,
                UnicodeError)


def normalises(func: Callable[P, R]) -> Callable[P, R]:
    """Mark a function that turns a platform payload into our shape: any shape error inside it becomes
    UpstreamFailure (typed, so it answers 304 upstream_error and lets a caller try its fallback), never
    an untyped exception. Errors that are already typed pass through."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ExtractorError:
            raise
        except SHAPE_ERRORS as exc:
            raise UpstreamFailure(f"unexpected payload shape in {func.__qualname__}: {exc!r}"[:300]) from exc

    return wrapper


# The operations of the one metered pipeline (DESIGN: "One metered machinery, several operations"): the
# endpoint POST /api/v1/<operation> and the extractor method that serves it.
OPERATIONS = ("parse", "live", "collection")


class Extractor:
    """Turns a recognised link into a result. One instance per worker process, reused.

    ``extract`` serves /parse (a MediaResult); ``live`` serves /live (a LiveResult, or ContentUnavailable
    with reason "offline" for a room that is not live); ``collection`` serves /collection (a CollectionPage
    of at most schema.COLLECTION_PAGE_SIZE items, pages counted from 1; a page past the end raises
    ContentUnavailable(reason="no_such_page")). A class implements the operations its platform supports by
    overriding their methods; the API answers 400 / 302 for one it lacks, before reserving anything."""

    platform: ClassVar[str] = ""

    def extract(self, target: Recognition) -> MediaResult:
        raise NotImplementedError

    def live(self, target: Recognition) -> LiveResult:
        raise UnsupportedLink(reason="unsupported")

    def collection(self, target: Recognition, page: int) -> CollectionPage:
        raise UnsupportedLink(reason="unsupported")

    @classmethod
    def supports(cls, operation: str) -> bool:
        """Whether this class serves ``operation`` (it overrides the operation's method)."""
        method = {"parse": "extract", "live": "live", "collection": "collection"}.get(operation)
        return method is not None and getattr(cls, method) is not getattr(Extractor, method)
