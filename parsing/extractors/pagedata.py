"""Helpers for extractors that read JSON embedded in a platform's HTML (``window.X = {...}``).

Pages assign their server state to a global in an inline script. The value is JSON, except that some
platforms let the JavaScript literal ``undefined`` through; it becomes ``null`` here. Scanning is done by
regular expressions (in C), so a megabyte page costs milliseconds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx

from .base import ContentUnavailable, UpstreamFailure, UpstreamTimeout


class PageDataError(ValueError):
    """The embedded state could not be read."""


class PageDataMissing(PageDataError):
    """The page does not assign the global at all (a block page, a login page, a changed layout)."""


class PageDataMalformed(PageDataError):
    """The global is assigned, but its value is not JSON we can read."""


# Tokens that matter while looking for the end of the value: strings (skipped whole, so brackets and the
# word undefined inside them are ignored), brackets, the bare literal undefined, and the end of the script.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]|(?<![\w$.])undefined(?![\w$])|</script', re.S | re.I)
_DECODER = json.JSONDecoder()


def _value_start(html: str, name: str) -> int:
    """Index of the first character of the value assigned to ``name``; raises PageDataMissing."""
    match = re.search(rf"(?<![\w$.]){re.escape(name)}\s*=\s*(?=[{{\[])", html)
    if match is None:
        raise PageDataMissing(f"{name} is not assigned on this page")
    return match.end()


def _js_value_text(html: str, start: int) -> str:
    """The bracket-balanced value starting at ``start``, bare ``undefined`` turned into ``null``."""
    depth, out, copied = 0, [], start
    for token in _TOKENS.finditer(html, start):
        text = token.group()
        if text[0] == '"':
            continue
        if text[0] in "{[":
            depth += 1
        elif text[0] in "}]":
            depth -= 1
            if depth == 0:
                out.append(html[copied:token.end()])
                return "".join(out)
        elif text.lower() == "</script":
            break
        else:  # the literal undefined
            out.append(html[copied:token.start()])
            out.append("null")
            copied = token.end()
    raise PageDataMalformed("the embedded value never closes")


def embedded_json(html: str, name: str) -> Any:
    """The JSON value a page assigns to the global ``name`` (e.g. ``window.INIT_STATE``).

    Raises PageDataMissing when the page has no such assignment, PageDataMalformed when it cannot be read.
    """
    start = _value_start(html, name)
    try:
        try:
            # Fast path: plain JSON, decoded in C; whatever follows the value is ignored.
            return _DECODER.raw_decode(html, start)[0]
        except json.JSONDecodeError:
            return json.loads(_js_value_text(html, start))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise PageDataMalformed(f"{name} is not valid JSON") from exc


def dig(data: Any, *path: str | int) -> Any:
    """Walk dict keys and list indexes; None as soon as a step does not exist."""
    for step in path:
        if isinstance(step, int) and isinstance(data, list) and -len(data) <= step < len(data):
            data = data[step]
        elif isinstance(step, str) and isinstance(data, Mapping):
            data = data.get(step)
        else:
            return None
    return data


def as_int(value: Any) -> int | None:
    """A positive int from a number or a numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and 1 <= value < 2**63 else None
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,18}\s*", value):
        return int(value) or None
    return None


def as_dict(value: Any) -> dict[str, Any]:
    """The value when it is an object, else an empty dict (platforms send null, or change shapes)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """The value when it is a list, else an empty list (platforms send null for empty lists)."""
    return value if isinstance(value, list) else []


def first_str(values: Any) -> str | None:
    """The first non-empty string of a list, or None."""
    return next((v for v in as_list(values) if isinstance(v, str) and v), None)


def text(value: Any) -> str | None:
    """A non-empty string from a string or a number (ids come as either), else None."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def split_url(url: str) -> SplitResult:
    """``urlsplit`` that gives an empty result instead of raising on a malformed address from a page."""
    try:
        return urlsplit(url)
    except ValueError:
        return urlsplit("")


def https(url: str) -> str:
    """The URL upgraded to https (platforms still embed some CDN links as http)."""
    return "https://" + url[len("http://"):] if url.startswith("http://") else url


def short_side_quality(width: int | None, height: int | None) -> str | None:
    """A "1080p"-style label from the shorter side of a frame, or None when unknown."""
    sides = [s for s in (width, height) if s]
    return f"{min(sides)}p" if sides else None


def reason_from_text(text: str, default: str) -> str:
    """A ContentUnavailable reason guessed from a platform's own explanation (Chinese or English)."""
    lowered = text.lower()
    if any(word in lowered for word in ("私密", "仅自己", "仅作者", "好友可见", "private", "self_see", "friend")):
        return "private"
    if any(word in lowered for word in ("删除", "不存在", "下架", "delete", "not exist", "removed")):
        return "deleted"
    if any(word in lowered for word in ("登录", "login")):
        return "login_required"
    if any(word in lowered for word in ("地区", "区域", "region")):
        return "region_blocked"
    return default


def fetch(client: httpx.Client, url: str, **kwargs: Any) -> httpx.Response:
    """GET ``url`` through the policy client; raises UpstreamTimeout or UpstreamFailure instead of httpx errors."""
    try:
        return client.get(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout("the platform did not answer in time") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise UpstreamFailure("the platform could not be reached") from exc


# What reading an unexpected shape can raise; extractors turn these into UpstreamFailure, never a raw error.
SHAPE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, ValueError)


def check_status(response: httpx.Response, *, not_found: str | None = "deleted") -> None:
    """Raise the typed error a non-2xx answer means: 404/410 → ContentUnavailable, others → UpstreamFailure."""
    status = response.status_code
    if status < 300:
        return
    if status in (404, 410) and not_found:
        raise ContentUnavailable(f"the platform answered {status}", reason=not_found)
    raise UpstreamFailure(f"the platform answered {status}")
