"""GET /metrics: Prometheus text behind a bearer token, adding up every process of the stack (the API and
the worker write to PROMETHEUS_MULTIPROC_DIR, as the production scripts set it)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_key
from tests.parsing.test_parse_api import YT, vid
from tests.support import extractors as scripted
from tests.support.stack import METRICS_TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(stack) -> dict[tuple[str, tuple], float]:
    answer = httpx.get(f"{stack.base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_token(stack):
    assert httpx.get(f"{stack.base_url}/metrics", timeout=10).status_code == 401
    wrong = httpx.get(f"{stack.base_url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_token"


def test_requests_parses_credits_and_queues_are_counted(stack):
    before = scrape(stack)
    _, token = make_key(credits=5)
    headers = {"Authorization": f"Bearer {token}"}
    ok = httpx.post(f"{stack.base_url}/api/v1/parse", headers=headers, json={"url": YT.format(vid("m1"))}, timeout=30)
    scripted.script(vid("m2"), "private")
    dead = httpx.post(f"{stack.base_url}/api/v1/parse", headers=headers, json={"url": YT.format(vid("m2"))},
                      timeout=30)
    cached = httpx.post(f"{stack.base_url}/api/v1/parse", headers=headers, json={"url": YT.format(vid("m1"))},
                        timeout=30)
    refused = httpx.post(f"{stack.base_url}/api/v1/parse", json={"url": YT.format(vid("m3"))}, timeout=30)
    assert (ok.status_code, dead.json()["code"], "Cached-On" in cached.headers, refused.status_code) == (
        200, 304, True, 401)
    after = scrape(stack)

    def grew(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("easydown_requests_total", endpoint="/api/v1/parse", status="200") == 3
    assert grew("easydown_requests_total", endpoint="/api/v1/parse", status="401") == 1
    assert grew("easydown_parses_total", platform="youtube", outcome="succeeded") == 1
    assert grew("easydown_parses_total", platform="youtube", outcome="cached") == 1
    assert grew("easydown_parses_total", platform="youtube", outcome="private") == 1
    assert grew("easydown_parse_seconds_count", platform="youtube") == 3
    # Credits: two reserved (the fresh parses), two captured (one fresh, one cached), one released by the worker.
    assert grew("easydown_credits_total", movement="reserved") == 2
    assert grew("easydown_credits_total", movement="captured") == 2
    assert grew("easydown_credits_total", movement="released") == 1
    queues = [labels for (name, labels) in after if name == "easydown_queue_depth"]
    assert queues and all(value(after, "easydown_queue_depth", **dict(q)) >= 0 for q in queues)
