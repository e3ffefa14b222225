"""A test extractor plugged in through EASYDOWN_EXTRACTORS; its behaviour is scripted through the
real Redis by the test (keyed by the media id), so the real worker process does what a test asks."""

from __future__ import annotations

import json
import os
import signal
import time

import redis

from parsing.extractors.base import (
    ContentUnavailable,
    Extractor,
    UnsupportedLink,
    UpstreamFailure,
    UpstreamTimeout,
)
from parsing.http import http_client
from parsing.recognition import Recognition
from parsing.schema import (
    COLLECTION_PAGE_SIZE,
    Audio,
    Author,
    CollectionItem,
    CollectionPage,
    Image,
    LiveResult,
    MediaResult,
    Stream,
    Video,
)

PREFIX = f"test:{os.environ.get('EASYDOWN_TEST_RUN', '')}:extractor"


def client() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def script(media_id: str, action: str, **params: object) -> None:
    """Tell the worker what to do when it extracts ``media_id``."""
    client().set(f"{PREFIX}:script:{media_id}", json.dumps({"action": action, **params}))


def calls(media_id: str) -> int:
    return int(client().get(f"{PREFIX}:calls:{media_id}") or 0)


def most_in_flight() -> int:
    """The most scripted "sleep" parses that were waiting at the same moment."""
    return int(client().get(f"{PREFIX}:inflight:max") or 0)


def worker_pid(media_id: str) -> int | None:
    value = client().get(f"{PREFIX}:pid:{media_id}")
    return int(value) if value else None


def _plan(target: Recognition) -> tuple[redis.Redis, str, dict]:
    r = client()
    media_id = target.id or ""
    r.incr(f"{PREFIX}:calls:{media_id}")
    r.set(f"{PREFIX}:pid:{media_id}", os.getpid())
    raw = r.get(f"{PREFIX}:script:{media_id}")
    return r, media_id, json.loads(raw) if raw else {"action": "ok"}


class ScriptedExtractor(Extractor):
    def live(self, target: Recognition) -> LiveResult:
        """A room: live unless scripted "offline" (or another failure, as for a post)."""
        _, room, plan = _plan(target)
        if plan["action"] == "offline":
            raise ContentUnavailable(reason="offline")
        if plan["action"] == "upstream_timeout":
            raise UpstreamTimeout()
        return LiveResult(platform=target.platform or "", title=f"room {room}", id=room, url=target.url,
                          author=Author(name="streamer"), thumbnail="https://cdn.example/room.jpg",
                          streams=[Stream(url=f"https://live.example/{room}.m3u8", format="hls", quality="origin"),
                                   Stream(url=f"https://live.example/{room}.flv", format="flv", quality="origin")])

    def collection(self, target: Recognition, page: int) -> CollectionPage:
        """A playlist of ``total`` items (scripted, default 120) whose items are YouTube videos."""
        _, list_id, plan = _plan(target)
        if plan["action"] == "private":
            raise ContentUnavailable(reason="private")
        total = int(plan.get("total", 120))
        first = (page - 1) * COLLECTION_PAGE_SIZE
        if first >= total:
            raise ContentUnavailable(reason="no_such_page")
        items = [CollectionItem(index=n + 1, id=f"i{n}".ljust(11, "x"), title=f"item {n + 1}", duration=60,
                                url=f"https://www.youtube.com/watch?v={f'i{n}'.ljust(11, 'x')}")
                 for n in range(first, min(total, first + COLLECTION_PAGE_SIZE))]
        return CollectionPage(platform=target.platform or "", page=page, total=total, items=items,
                              title=f"list {list_id}", id=list_id, url=target.url)

    def extract(self, target: Recognition) -> MediaResult:
        r, media_id, plan = _plan(target)
        action = plan["action"]
        if action == "sleep":  # a platform that takes this long; records how many wait at once
            now = r.incr(f"{PREFIX}:inflight")
            r.eval("if tonumber(redis.call('get', KEYS[1]) or 0) < tonumber(ARGV[1]) then "
                   "redis.call('set', KEYS[1], ARGV[1]) end", 1, f"{PREFIX}:inflight:max", now)
            try:
                time.sleep(float(plan["seconds"]))
            finally:
                r.decr(f"{PREFIX}:inflight")
        elif action == "fetch":  # a request to a (test) origin through the real outbound policy
            with http_client(target.platform or "youtube") as http:
                http.get(plan["url"])
        elif action == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        elif action == "private":
            raise ContentUnavailable(reason="private")
        elif action == "unsupported":
            raise UnsupportedLink(reason="not_a_post")
        elif action == "upstream_timeout":
            raise UpstreamTimeout()
        elif action == "blocked":
            raise UpstreamFailure()
        elif action == "crash":
            raise RuntimeError("extractor bug with a secret stack trace")
        elif action == "split":  # DASH: a video without sound and an audio track, at the given URLs
            return MediaResult(
                platform=target.platform or "", title=f"split {media_id}", thumbnail="https://cdn.example/t.jpg",
                duration=3, id=media_id, url=target.url,
                videos=[Video(url=plan["video"], quality="720p", has_audio=False, source="dash")],
                audios=[Audio(url=plan["audio"], bitrate=128000, source="dash")],
            )
        elif action == "empty":
            return MediaResult(platform=target.platform or "", title="nothing here")
        return MediaResult(
            platform=target.platform or "", title=f"video {media_id}", thumbnail="https://cdn.example/t.jpg",
            duration=12, id=media_id, url=target.url,
            videos=[Video(url=f"https://cdn.example/{media_id}.mp4", quality="HD", width=1080, height=1920)],
            images=[Image(url="https://cdn.example/cover.jpg", width=1080, height=1350)],
        )
