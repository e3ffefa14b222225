"""Real payloads, broken the ways platforms break them, for property tests of the extractors'
normalisation: a field removed, a value of another type, numbers too large for a float, nesting deeper
than the stack. Whatever comes in, only a result or a typed ExtractorError may come out.

    @given(data=st.data())
    def test_x(data):
        payload = data.draw(mutated(original))
        assert_only_typed_errors(lambda: status_to_result(payload))
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from parsing.extractors.base import ExtractorError

# Real payloads other public projects saved (read in place, never copied into the project): beside the
# project as ../shared/captures, or wherever EASYDOWN_CAPTURES says.
CAPTURES = Path(os.environ.get("EASYDOWN_CAPTURES") or Path(__file__).resolve().parents[3] / "shared" / "captures")

REPLACEMENTS: list[Any] = [None, "", "x", 0, -1, 1.5, 10**30, float("inf"), float("nan"), True, [], {}, [None],
                           {"": None}, "Infinity", "-1", "https://", "javascript:alert(1)", "\x00", "9" * 400]


def capture_path(relative: str) -> Path:
    """A file under ../shared/captures; the test is skipped (with the reason) where the folder is absent."""
    path = CAPTURES / relative
    if not CAPTURES.is_dir():
        pytest.skip(f"the captures folder {CAPTURES} is absent on this machine")
    if not path.is_file():
        pytest.skip(f"capture {relative} is absent")
    return path


def load_capture(relative: str) -> Any:
    return json.loads(capture_path(relative).read_text(encoding="utf-8"))


def _paths(value: Any, prefix: tuple = (), out: list | None = None, limit: int = 4000) -> list[tuple]:
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(value, dict):
        for key, item in value.items():
            out.append((*prefix, key))
            _paths(item, (*prefix, key), out, limit)
    elif isinstance(value, list):
        for index, item in enumerate(value[:20]):
            out.append((*prefix, index))
            _paths(item, (*prefix, index), out, limit)
    return out


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def mutated(draw, original: Any, *, mutations: int = 3) -> Any:
    """A copy of ``original`` with up to ``mutations`` changes at random paths."""
    text = json.dumps(original)
    payload = json.loads(text)
    paths = _paths(payload)
    if not paths:
        return payload
    for _ in range(draw(st.integers(1, mutations))):
        path = draw(st.sampled_from(paths))
        parent = payload
        try:
            for step in path[:-1]:
                parent = parent[step]
            kind = draw(st.sampled_from(["remove", "replace", "deep"]))
            if kind == "remove":
                if isinstance(parent, dict):
                    parent.pop(path[-1], None)
                else:
                    parent.pop(path[-1])
            elif kind == "replace":
                parent[path[-1]] = draw(st.sampled_from(REPLACEMENTS))
            else:
                parent[path[-1]] = _deep(draw(st.sampled_from([50, 5000])))
        except (KeyError, IndexError, TypeError, AttributeError):
            continue  # an earlier mutation removed or replaced this path
    return payload


def assert_only_typed_errors(call: Callable[[], Any]) -> Any:
    """Run ``call``: it may return anything, or raise an ExtractorError; nothing else."""
    try:
        return call()
    except ExtractorError:
        return None
