"""Request ids: made or kept, sent back as X-Request-Id, in the error envelope and in the request's log lines."""

from __future__ import annotations

import json
import logging
import re
import time

import httpx
import pytest

from easydown import requestid

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_error_carries_the_id_in_its_header_and_its_envelope(stack):
    answer = httpx.post(f"{stack.base_url}/api/v1/parse", json={"url": "https://youtu.be/abcdefghijk"}, timeout=10)
    assert answer.status_code == 401
    request_id = answer.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id) and answer.json()["requestId"] == request_id
    # Each request its own.
    again = httpx.get(f"{stack.base_url}/healthz", timeout=10)
    assert again.headers["x-request-id"] not in ("", request_id)


@pytest.mark.parametrize("incoming, kept", [
    ("lb-7f3a9c2e-0001", True), ("abc:def.ghi_jkl-1", True),
    ("short", False), ("has space inside!", False), ("x" * 200, False), ("ünïcode-ids", False),
])
def test_a_well_formed_incoming_id_is_kept(stack, incoming, kept):
    answer = httpx.get(f"{stack.base_url}/api/v1/account", headers={"X-Request-Id": incoming.encode("utf-8")},
                       timeout=10)
    assert answer.status_code == 401
    assert (answer.headers["x-request-id"] == incoming) is kept
    assert answer.json()["requestId"] == answer.headers["x-request-id"]


def test_the_log_lines_of_a_request_carry_its_id(stack):
    marker = f"trace-{time.time_ns()}"
    httpx.get(f"{stack.base_url}/api/v1/account", headers={"X-Request-Id": marker}, timeout=10)
    for _ in range(50):
        lines = [json.loads(line) for line in stack.logs["web"].read_text().splitlines() if line.startswith("{")]
        mine = [line for line in lines if line.get("requestId") == marker]
        if mine:
            break
        time.sleep(0.1)
    assert mine and mine[0]["logger"] == "django.request" and "Unauthorized" in mine[0]["message"]
    assert {"time", "level", "logger", "message"} <= set(mine[0])


def test_the_json_formatter_without_a_request():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom %s", ("here",), None)
    requestid.RequestIdFilter().filter(record)
    entry = json.loads(requestid.JsonFormatter().format(record))
    assert entry["message"] == "boom here" and entry["level"] == "ERROR" and "requestId" not in entry
