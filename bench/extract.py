"""Extraction CPU cost per parse: a warm worker versus a cold process, on replayed fixtures.

- warm: this process, as a Celery child after ``worker_process_init``: yt-dlp imported once, one YoutubeDL
  reused by every parse (fresh cookie jar per parse), extractors built once.
- cold: a ``python -c`` process per parse that imports Django, the extractor and yt-dlp and builds its
  YoutubeDL for that one parse; its CPU is read with ``resource.getrusage(RUSAGE_CHILDREN)``.
- fresh YDL (in-process, yt-dlp platforms only): a new YoutubeDL per parse in this already warm process,
  the cost of reusing the module but not the instance.

Network is never touched: yt-dlp requests are answered by the test replay (``tests/support/ytdlp_replay``),
httpx requests by respx, from ``tests/fixtures``. The warm worker's resident memory (VmRSS) is sampled
during 1,000 parses. Run: ``.venv/bin/python bench/extract.py`` (a minute or two).
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "easydown.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("EASYDOWN_PROXIES", "{}")
os.environ.setdefault("EASYDOWN_COOKIES", "{}")

FIXTURES = ROOT / "tests" / "fixtures"
WARM_PARSES = 30
COLD_PARSES = 4
RSS_PARSES = 1000
YOUTUBE_OFFLINE = {"youtube": {"player_client": ["visionos"], "player_skip": ["webpage", "configs", "js"]}}


@dataclass
class Case:
    name: str
    extractor: str  # dotted path of the extractor class
    link: str
    ytdlp: dict = field(default_factory=dict)  # replay routes
    httpx: dict[str, str] = field(default_factory=dict)  # exact URL -> fixture (html or json by extension)
    uses_ytdlp: bool = True


BILI_APIS = {
    "https://api.bilibili.com/x/player/pagelist?*": "bilibili/pagelist.json",
    "https://api.bilibili.com/x/web-interface/nav*": "bilibili/nav.json",
    "https://api.bilibili.com/x/player/wbi/playurl?*": "bilibili/playurl.json",
    "https://api.bilibili.com/x/player/wbi/v2?*": "bilibili/player_v2.json",
}
CASES = [
    Case("tiktok video", "parsing.extractors.tiktok.TikTokExtractor",
         "https://www.tiktok.com/@sunny.kitchen/video/7301234567890123456",
         ytdlp={"https://www.tiktok.com/@sunny.kitchen/video/7301234567890123456*": "tiktok/video_page.html"}),
    Case("youtube", "parsing.extractors.youtube.YouTubeExtractor", "https://www.youtube.com/watch?v=Xk9mQ2vTe4A",
         ytdlp={"POST https://www.youtube.com/youtubei/v1/next*": "youtube/next.json",
                "POST https://www.youtube.com/youtubei/v1/player*": "youtube/player_ok.json"}),
    Case("bilibili", "parsing.extractors.bilibili.BilibiliExtractor", "https://www.bilibili.com/video/BV1Xy4y1k7Qa/",
         ytdlp={"https://www.bilibili.com/video/BV1Xy4y1k7Qa/*": "bilibili/video_page.html", **BILI_APIS}),
    Case("instagram reel", "parsing.extractors.instagram.InstagramExtractor",
         "https://www.instagram.com/reel/DCc3De4Fg5H/",
         ytdlp={"https://www.instagram.com/": "instagram/home.html",
                "https://www.instagram.com/api/v1/web/get_ruling_for_content/*": "instagram/ruling_ok.json",
                "POST https://www.instagram.com/api/graphql": "instagram/graphql_reel.json"},
         httpx={"https://www.instagram.com/p/DCc3De4Fg5H/embed/captioned/": "instagram/embed_reel.html"}),
    Case("tiktok photo", "parsing.extractors.tiktok.TikTokExtractor",
         "https://www.tiktok.com/@market.days/photo/7309876543210987654", uses_ytdlp=False,
         httpx={"https://www.tiktok.com/@market.days/video/7309876543210987654": "tiktok/photo_page.html"}),
    Case("douyin", "parsing.extractors.douyin.DouyinExtractor", "https://www.douyin.com/video/7412345678901234567",
         uses_ytdlp=False,
         httpx={"https://www.iesdouyin.com/share/video/7412345678901234567/": "douyin/share_video.html"}),
    Case("kuaishou", "parsing.extractors.kuaishou.KuaishouExtractor",
         "https://www.kuaishou.com/short-video/3xq9abc7k2mz4uw", uses_ytdlp=False,
         httpx={"https://v.m.chenzhongtech.com/fw/photo/3xq9abc7k2mz4uw": "kuaishou/photo_video.html"}),
    Case("xiaohongshu", "parsing.extractors.xiaohongshu.XiaohongshuExtractor",
         "https://www.xiaohongshu.com/explore/66f1a2b3000000001e0248c7?xsec_token="
         "ABz0Yx1WvU2tS3rQ4pO5nM6lK7jI8hG9fE0dC1bA2zZ4=", uses_ytdlp=False,
         httpx={"https://www.xiaohongshu.com/explore/66f1a2b3000000001e0248c7?xsec_token="
                "ABz0Yx1WvU2tS3rQ4pO5nM6lK7jI8hG9fE0dC1bA2zZ4%3D": "xiaohongshu/note_video.html"}),
    Case("x video", "parsing.extractors.twitter.TwitterExtractor",
         "https://x.com/orbitworks/status/1841532209876543210", uses_ytdlp=False,
         httpx={"https://cdn.syndication.twimg.com/tweet-result": "twitter/video.json"}),
    Case("instagram carousel", "parsing.extractors.instagram.InstagramExtractor",
         "https://www.instagram.com/p/DCa1Bc2De3F/", uses_ytdlp=False,
         httpx={"https://www.instagram.com/p/DCa1Bc2De3F/embed/captioned/": "instagram/embed_carousel.html"}),
    Case("weibo pictures", "parsing.extractors.weibo.WeiboExtractor", "https://weibo.com/6543210987/OzYx1AbCd",
         uses_ytdlp=False, httpx={"https://weibo.com/ajax/statuses/show": "weibo/status_pictures.json"}),
]


def mocks(case: Case) -> ExitStack:
    """Enter the replay and respx mocks a case needs; returns the stack to close."""
    import respx

    from tests.support.ytdlp_replay import replay

    stack = ExitStack()
    stack.enter_context(replay(case.ytdlp))
    router = stack.enter_context(respx.mock(assert_all_called=False))
    for url, fixture in case.httpx.items():
        body = (FIXTURES / fixture).read_text(encoding="utf-8")
        if fixture.endswith(".json"):
            router.get(url).respond(200, text=body, headers={"Content-Type": "application/json"})
        else:
            router.get(url).respond(200, html=body)
    return stack


def parser(case: Case) -> Callable[[], object]:
    """A function doing one parse of the case's link with its (process-wide) extractor."""
    from django.utils.module_loading import import_string

    from parsing.extractors.youtube import YouTubeExtractor
    from parsing.recognition import recognize

    YouTubeExtractor.extractor_args = YOUTUBE_OFFLINE  # the JS-less client: replayable offline
    extractor = import_string(case.extractor)()
    target = recognize(case.link)

    def parse() -> object:
        result = extractor.extract(target)
        assert result.has_media, case.name
        return result

    return parse


def cold_main(index: int) -> None:
    """One parse in a fresh process (the subprocess side of the cold measurement)."""
    import django

    django.setup()
    logging.disable(logging.INFO)
    case = CASES[index]
    with mocks(case):
        parser(case)()


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_cold(index: int) -> float:
    """Mean CPU seconds of a cold process doing one parse."""
    code = (f"import runpy, sys; sys.argv = ['extract.py', '--cold', '{index}']; "
            f"runpy.run_path({str(Path(__file__))!r}, run_name='__main__')")
    costs = []
    for _ in range(COLD_PARSES):
        before = children_cpu()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        costs.append(children_cpu() - before)
    return statistics.mean(costs)


def measure_warm(parse: Callable[[], object], runs: int = WARM_PARSES) -> float:
    """Median CPU seconds of one parse in this (warm) process."""
    costs = []
    for _ in range(runs):
        start = time.process_time()
        parse()
        costs.append(time.process_time() - start)
    return statistics.median(costs)


def measure_fresh_instance(case: Case, parse: Callable[[], object]) -> float:
    """Median CPU seconds of a parse that builds a new YoutubeDL (module already imported)."""
    from parsing.extractors import ytdlp

    def fresh() -> object:
        ytdlp._idle.clear()  # the next parse builds (and warms) a new instance
        return parse()

    return measure_warm(fresh, runs=10)


def main() -> None:
    import django

    django.setup()
    logging.disable(logging.INFO)  # httpx logs every (mocked) request
    from parsing.extractors import ytdlp

    start = time.monotonic()
    ytdlp.warm_up()  # what worker_process_init does in a Celery child
    print(f"worker warm-up (import yt-dlp, build instance, compile URL patterns): "
          f"{time.monotonic() - start:.2f} s wall, RSS {rss_kib() / 1024:.0f} MiB\n")
    print(f"{'case':<20} {'warm ms':>9} {'cold ms':>9} {'cold/warm':>10} {'fresh YDL ms':>13} {'fresh/warm':>11}")
    parsers: list[tuple[Case, Callable[[], object]]] = []
    for index, case in enumerate(CASES):
        try:
            with mocks(case):
                parse = parser(case)
                for _ in range(3):
                    parse()
                warm = measure_warm(parse)
                fresh = measure_fresh_instance(case, parse) if case.uses_ytdlp else None
            cold = measure_cold(index)
        except Exception as exc:  # noqa: BLE001 - a platform whose fixtures moved is reported, not fatal
            print(f"{case.name:<20} skipped: {type(exc).__name__}: {str(exc)[:80]}")
            continue
        parsers.append((case, parse))
        fresh_cols = f"{fresh * 1000:>13.1f} {fresh / warm:>10.1f}x" if fresh else f"{'-':>13} {'-':>11}"
        print(f"{case.name:<20} {warm * 1000:>9.2f} {cold * 1000:>9.0f} {cold / warm:>9.0f}x {fresh_cols}")

    print(f"\nwarm worker memory over {RSS_PARSES} parses (round robin over {len(parsers)} cases, 10 at a time):")
    gc.collect()
    samples = []
    for block in range(RSS_PARSES // 10):
        case, parse = parsers[block % len(parsers)]
        with mocks(case):  # fresh mocks per block, so their call logs never pile up
            for _ in range(10):
                parse()
        done = (block + 1) * 10
        if done in (10, RSS_PARSES // 4, RSS_PARSES // 2, 3 * RSS_PARSES // 4, RSS_PARSES):
            samples.append((done, rss_kib()))
    for count, kib in samples:
        print(f"  after {count:>4} parses: RSS {kib / 1024:7.1f} MiB")
    growth = (samples[-1][1] - samples[1][1]) / 1024
    print(f"  growth from parse {samples[1][0]} to {samples[-1][0]}: {growth:+.1f} MiB")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--cold":
        cold_main(int(sys.argv[2]))
    else:
        main()
