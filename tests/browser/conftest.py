"""Playwright driving Debian's Chromium against the live stack (uvicorn + a real Celery worker)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WIDTHS = (390, 1280)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop in this thread, which makes Django's ORM think it is called
    # from async code; the test's ORM calls are plain synchronous ones, so the guard is lifted here only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Session:
    """One browser context (its own cookies) that records every request it makes."""

    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.requests: list[str] = []
        context.on("request", lambda request: self.requests.append(request.url))
        self.page: Page = context.new_page()
        self.page.set_default_timeout(15_000)

    def go(self, path: str) -> Page:
        response = self.page.goto(self.base_url + path)
        assert response is not None
        return self.page

    def foreign_requests(self) -> list[str]:
        """Requests to any origin but ours (scripts, styles or fonts from a CDN would show up here)."""
        ours = urlsplit(self.base_url).netloc
        return [u for u in self.requests if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != ours]


@pytest.fixture
def session_factory(browser: Browser, stack) -> Iterator:
    contexts: list[BrowserContext] = []

    def make() -> Session:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=stack.base_url,
                                      permissions=["clipboard-read", "clipboard-write"])
        contexts.append(context)
        return Session(context, stack.base_url)

    yield make
    for context in contexts:
        context.close()


def fits_width(page: Page) -> bool:
    """True when nothing sticks out sideways (no horizontal scrolling of the whole page)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def shoot(page: Page, name: str, *, mask: list | None = None, check_width: bool = True) -> None:
    """Save full-page screenshots at phone and desktop widths; fail when the page overflows sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)
        if check_width:
            assert fits_width(page), f"{name} overflows at {width}px"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True, mask=mask or [],
                        animations="disabled")
    page.set_viewport_size({"width": 1280, "height": 900})
