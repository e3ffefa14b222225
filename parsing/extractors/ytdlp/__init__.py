"""yt-dlp embedded as a library: one warm ``YoutubeDL`` per worker process, reused by every task with a
fresh cookie jar; policed networking (``net``), typed errors (``errors``) and normalisation (``normalise``).

Public API (other extractors import these names):

- ``ytdlp_info(url, *, platform, extractor_args=None, params=None, ie_key=None) -> dict``: the processed
  info dict; raises only our typed errors.
- ``info_to_result(info, *, platform) -> MediaResult``.
- ``YtDlpExtractor``: ``extract(target)`` = ``info_to_result(ytdlp_info(target.url))``; subclasses set
  ``platform`` and may override ``ytdlp_url``, ``ytdlp_ie``, ``ytdlp_params`` and ``extractor_args``.
- ``warm_ydl(platform)``, ``warm_up()``, ``install_request_handler(factory)`` (the tests' replay).

Importing this package is cheap (no yt-dlp import): the web process imports it through ``parsing.tasks``.
yt-dlp is imported at worker start (``worker_init``, and ``worker_process_init`` in a prefork child) or
lazily on first use. ``YoutubeDL`` is not thread-safe and the worker runs many parses as threads of one
process, so instances are leased: a parse takes an idle instance for its platform's proxy (proxies are fixed
when yt-dlp builds its request handlers) or builds one (~0.2 MiB), and gives it back when it ends. No two
parses ever hold the same instance, and there are only as many as parses ran at once through yt-dlp.

The JavaScript challenge solver (deno, a subprocess per YouTube player) is the one CPU-heavy step: at most
``EASYDOWN_JS_SOLVERS`` run at once per process (default: the number of cores), so a burst of them cannot
starve the parses that only wait on the network.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from celery.signals import worker_init, worker_process_init
from django.conf import settings

from parsing import deadline
from parsing.http import proxy_for
from parsing.recognition import Recognition
from parsing.schema import MediaResult

from ..base import ContentUnavailable, Extractor, ExtractorError, UnsupportedLink, UpstreamFailure
from .errors import map_error, map_message, noise
from .net import RefusedAddress, checked_connection, policed_ydl_class, public_addrinfo
from .normalise import CAPTION_PLATFORMS, FORWARDED_COOKIES, entries, info_to_result

if TYPE_CHECKING:
    from yt_dlp import YoutubeDL
    from yt_dlp.networking.common import RequestHandler

__all__ = [
    "CAPTION_PLATFORMS", "FORWARDED_COOKIES", "SINGLE_ITEM_PLATFORMS", "RefusedAddress", "YtDlpExtractor",
    "checked_connection", "info_to_result", "install_request_handler", "map_error", "map_message",
    "leased_ydl", "policed_ydl_class", "public_addrinfo", "warm_up", "warm_ydl", "ytdlp_info",
]

log = logging.getLogger(__name__)

# Platforms whose links name one item: a multi-part Bilibili video or a YouTube watch?list link gives
# the named part only. Carousels and multi-video posts (Instagram, X, Weibo, TikTok) stay playlists.
SINGLE_ITEM_PLATFORMS = frozenset({"youtube", "bilibili"})
# URLs whose extraction imports and warms the extractors the platforms use.
WARM_URLS = (
    "https://www.youtube.com/watch?v=aaaaaaaaaaa",
    "https://www.bilibili.com/video/BV1aa411a7aa/",
    "https://www.bilibili.com/bangumi/play/ep1",
    "https://www.bilibili.com/cheese/play/ep1",
    "https://www.tiktok.com/@_/video/1000000000000000000",
    "https://www.instagram.com/p/aaaaaaaaaaa/",
    "https://x.com/_/status/1",
    "https://weibo.com/1000000000/Aaaaaaaaa",
)

_idle: dict[str | None, list[YoutubeDL]] = {}  # proxy -> instances no parse holds now
_built: list[YoutubeDL] = []  # every instance of this process (for the replay's handler changes)
_pool_lock = threading.Lock()
_MISSING = object()
_handler_factories: list[Callable[[YoutubeDL], RequestHandler]] = []


class _Logger:
    """Keeps yt-dlp quiet and keeps this task's warnings: with ignore_no_formats_error, yt-dlp reports
    why a post has no formats (private, removed, age gate…) as a warning instead of an error."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        if len(self.warnings) < 50:
            self.warnings.append(msg)
        log.debug("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)


def _params(proxy: str | None) -> dict[str, Any]:
    return {
        "quiet": True, "no_warnings": True, "noprogress": True, "logger": _Logger(),
        "skip_download": True,
        "socket_timeout": settings.EASYDOWN_READ_TIMEOUT,
        "proxy": proxy or "",  # "" = no proxy, and never the environment's
        "ignore_no_formats_error": True,  # an image entry of a carousel must not fail the whole post
        "check_formats": False,  # never test-download formats
        "noplaylist": True,
        # An explicit spec: the default one probes for ffmpeg (a subprocess) to decide about merging.
        "format": "best/bestvideo+bestaudio",
        # The generic extractor would fetch any page a link names; ours are platform links only.
        "allowed_extractors": ["default", "-generic"],
        "cachedir": False,
        "extractor_retries": 1,
        "color": "no_color",
    }


def _build(proxy: str | None) -> YoutubeDL:
    _limit_js_solvers()
    return policed_ydl_class()(_params(proxy))


def _take(proxy: str | None) -> YoutubeDL:
    with _pool_lock:
        idle = _idle.setdefault(proxy, [])
        if idle:
            return idle.pop()
    ydl = _build(proxy)
    with _pool_lock:
        _built.append(ydl)
    return ydl


@contextmanager
def leased_ydl(platform: str) -> Iterator[YoutubeDL]:
    """An instance for the platform's proxy that no other parse holds until this one gives it back."""
    proxy = proxy_for(platform)
    ydl = _take(proxy)
    _sync_extra_handlers(ydl)
    try:
        yield ydl
    finally:
        with _pool_lock:
            _idle.setdefault(proxy, []).append(ydl)


def warm_ydl(platform: str) -> YoutubeDL:
    """The idle instance the platform's next parse will lease (built when there is none)."""
    proxy = proxy_for(platform)
    with _pool_lock:
        idle = _idle.get(proxy)
        if idle:
            ydl = idle[-1]
            _sync_extra_handlers(ydl)
            return ydl
    with leased_ydl(platform) as ydl:
        return ydl


_js_solvers: threading.BoundedSemaphore | None = None
_js_lock = threading.Lock()


def _limit_js_solvers() -> None:
    """Bound how many deno processes (YouTube's JavaScript challenges) this process runs at once."""
    with _js_lock:  # two threads building their first instance at once must not patch twice
        _patch_js_solvers()


def _patch_js_solvers() -> None:
    global _js_solvers
    if _js_solvers is not None:
        return
    _js_solvers = threading.BoundedSemaphore(int(getattr(settings, "EASYDOWN_JS_SOLVERS", 0) or os.cpu_count() or 1))
    try:
        from yt_dlp.extractor.youtube.jsc._builtin.deno import DenoJCP
    except ImportError:  # a yt-dlp without the deno provider runs no JavaScript
        return
    solve = DenoJCP._run_js_runtime

    def bounded(self: Any, stdin: str, /) -> str:
        left = deadline.clip(None)
        if not _js_solvers.acquire(timeout=-1 if left is None else left):  # type: ignore[union-attr]
            raise deadline.DeadlineExceeded()
        try:
            return solve(self, stdin)
        finally:
            _js_solvers.release()  # type: ignore[union-attr]

    DenoJCP._run_js_runtime = bounded


def warm_up() -> None:
    """Import yt-dlp, build the warm instances and compile the URL patterns (at worker start)."""
    platforms = ("youtube", "bilibili", "tiktok", "instagram", "twitter", "weibo")
    for platform in platforms:
        ydl = warm_ydl(platform)
    for ie in ydl._ies.values():  # compiles every extractor's URL pattern once (~0.2 s), not on a task
        ie.suitable("https://warm-up.invalid/")
    for url in WARM_URLS:
        key = next((key for key, ie in ydl._ies.items() if ie.suitable(url)), None)
        if key:
            ydl.get_info_extractor(key)


@worker_init.connect
@worker_process_init.connect
def _warm_worker(**_: object) -> None:
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - a failed warm-up only makes the first task slower
        log.exception("yt-dlp warm-up failed")


def install_request_handler(factory: Callable[[YoutubeDL], RequestHandler]) -> Callable[[], None]:
    """Put a request handler (built per instance by ``factory``) first on every warm instance; returns
    a function that removes it. Used by the tests' offline replay."""
    _handler_factories.append(factory)

    def uninstall() -> None:
        if factory in _handler_factories:
            _handler_factories.remove(factory)
        with _pool_lock:
            instances = list(_built)
        for ydl in instances:
            _sync_extra_handlers(ydl)

    return uninstall


def _extra_preference(handler: object, request: object) -> int:
    return 100_000 if getattr(handler, "_easydown_extra", False) else 0


def _sync_extra_handlers(ydl: YoutubeDL) -> None:
    installed: dict[Callable, RequestHandler] = ydl.__dict__.setdefault("_easydown_extra", {})
    if not installed and not _handler_factories:
        return
    director = ydl._request_director
    for factory in [f for f in installed if f not in _handler_factories]:
        director.handlers.pop(installed.pop(factory).RH_KEY, None)
    for factory in _handler_factories:
        if factory not in installed:
            handler = installed[factory] = factory(ydl)
            handler._easydown_extra = True  # type: ignore[attr-defined]
            director.add_handler(handler)
    director.preferences.add(_extra_preference)


@cache
def _cookie_file(path: str, mtime: float) -> tuple[Any, ...]:
    from yt_dlp.cookies import YoutubeDLCookieJar

    jar = YoutubeDLCookieJar(path)
    jar.load()
    return tuple(jar)


def _fresh_cookies(ydl: YoutubeDL, platform: str) -> None:
    """Empty the instance's jar (the one its handlers share) and load the operator's cookies for the platform."""
    jar = ydl.cookiejar
    jar.clear()
    path = settings.EASYDOWN_COOKIES.get(platform)
    if path:
        for cookie in _cookie_file(path, os.path.getmtime(path)):
            jar.set_cookie(copy.copy(cookie))


def ytdlp_info(url: str, *, platform: str, extractor_args: dict[str, dict[str, list[str]]] | None = None,
               params: Mapping[str, Any] | None = None, ie_key: str | None = None, operation: str = "parse") -> dict:
    """The processed info dict yt-dlp extracts for ``url`` (no download); ``params`` apply to this call only.
    ``ie_key`` names the yt-dlp extractor when the caller knows it (skips matching ~1,800 URL patterns).
    ``operation`` "live" accepts a stream that is live now (and nothing else: ContentUnavailable("offline"));
    "collection" returns a listing as it is (a flat playlist has no media of its own).

    Raises UnsupportedLink, ContentUnavailable (private, deleted, login_required, region_blocked, live,
    drm, unavailable), UpstreamTimeout or UpstreamFailure, never a yt-dlp exception. The typed error's
    message is yt-dlp's (for logs and callers; customers only see the reason).
    """
    from yt_dlp.utils import YoutubeDLError

    with leased_ydl(platform) as ydl:
        _fresh_cookies(ydl, platform)
        _forget_messages(ydl)
        call_params = {"noplaylist": platform in SINGLE_ITEM_PLATFORMS, "extractor_args": extractor_args or {},
                       **(params or {})}
        saved = {key: ydl.params.get(key, _MISSING) for key in call_params}
        ydl.params.update(call_params)
        try:
            info = ydl.extract_info(url, download=False, ie_key=ie_key)
        except YoutubeDLError as exc:
            error = map_error(exc)
            if operation == "live" and error.reason == "live":  # upcoming, or just ended: not live now
                error = ContentUnavailable(str(exc)[:500], reason="offline")
            log.info("yt-dlp %s on %s: %s", error.reason, url, str(exc)[:300])
            raise error from None
        except ExtractorError:
            raise
        except Exception as exc:
            log.exception("yt-dlp crashed on %s", url)
            raise UpstreamFailure("extraction failed") from exc
        finally:
            ydl.cookiejar.clear()  # nothing of this task's session outlives it
            for key, value in saved.items():
                if value is _MISSING:
                    ydl.params.pop(key, None)
                else:
                    ydl.params[key] = value
        warnings = list(ydl.params["logger"].warnings)
    if not isinstance(info, dict):
        raise UpstreamFailure("no result")
    if operation == "collection":
        return info
    if operation == "live" and not info.get("is_live") and info.get("live_status") != "is_live":
        raise ContentUnavailable("not live now", reason="offline")
    if operation != "live" and (info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming",
                                                                                      "post_live")):
        raise ContentUnavailable(reason="live")
    if not any(entry.get("formats") or entry.get("url") or in_playlist for entry, in_playlist in entries(info)):
        # No media at all: the warnings say why; no reason found means no_media later.
        errors = [e for w in warnings if not noise(w) and (e := map_message(w))]
        if errors:
            error = next((e for e in errors if e.reason != "unavailable"), errors[0])
            log.info("yt-dlp %s on %s: %s", error.reason, url, warnings[:3])
            raise error
    return info


def _forget_messages(ydl: YoutubeDL) -> None:
    """Start the task with no warnings kept and no "only once" memory, which otherwise grows with every
    video id a warm instance sees (and would hide a reason the second time it occurs)."""
    ydl.params["logger"].warnings.clear()
    ydl._printed_messages.clear()
    for ie in ydl._ies_instances.values():
        ie._printed_messages.clear()


class YtDlpExtractor(Extractor):
    """An extractor backed by the warm yt-dlp instance; subclasses set ``platform`` and may rewrite the URL."""

    platform: ClassVar[str] = ""
    extractor_args: ClassVar[dict[str, dict[str, list[str]]]] = {}

    def ytdlp_url(self, target: Recognition) -> str:
        """The URL handed to yt-dlp (the recognised link by default)."""
        if not target.url:
            raise UnsupportedLink(reason="unsupported")
        return target.url

    def ytdlp_params(self, target: Recognition) -> dict[str, Any]:
        """yt-dlp params for this call only (none by default)."""
        return {}

    def ytdlp_ie(self, target: Recognition) -> str | None:
        """The yt-dlp extractor key for the link, when known (None: yt-dlp matches the URL itself)."""
        return None

    def extract(self, target: Recognition) -> MediaResult:
        platform = self.platform or target.platform or ""
        info = ytdlp_info(self.ytdlp_url(target), platform=platform, extractor_args=self.extractor_args or None,
                          params=self.ytdlp_params(target), ie_key=self.ytdlp_ie(target))
        return info_to_result(info, platform=platform)
