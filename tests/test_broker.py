"""easydown.broker.send writes the very message apply_async writes (Celery's protocol 2 in kombu's Redis
envelope), so the worker reads it the same way; a Celery or kombu upgrade that changes the format fails here."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import redis
from django.conf import settings

from easydown import broker
from parsing.tasks import parse_job

# Fields that differ between two sends of the same task by nature: ids, the sending process, the reply
# queue (unused: the task ignores its result) and kombu's delivery tag.
VARYING = {"id", "root_id", "correlation_id", "delivery_tag", "origin", "reply_to"}


@pytest.fixture
def queue():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    name = f"test-broker-{uuid.uuid4().hex[:8]}"
    yield client, name
    client.delete(name)


def _stable(raw: bytes) -> tuple[dict, list]:
    envelope = json.loads(raw)
    body = json.loads(base64.b64decode(envelope.pop("body")))
    headers = {k: v for k, v in envelope.pop("headers").items() if k not in VARYING}
    properties = {k: v for k, v in envelope.pop("properties").items() if k not in VARYING}
    return {"envelope": envelope, "headers": headers, "properties": properties}, body


@pytest.mark.parametrize("kwargs", [{}, {"fresh": True}])
def test_send_writes_what_apply_async_writes(queue, kwargs):
    client, name = queue
    job = str(uuid.uuid4())
    parse_job.apply_async(args=[job], kwargs=kwargs, queue=name)
    broker.send(parse_job, [job], kwargs or None, name)
    ours, celerys = client.rpop(name), client.rpop(name)  # LPUSH: the oldest is on the right
    assert client.llen(name) == 0
    assert _stable(ours) == _stable(celerys)
    ours_headers = json.loads(ours)["headers"]
    assert ours_headers["id"] == ours_headers["root_id"] == json.loads(ours)["properties"]["correlation_id"]
    assert ours_headers["id"] != json.loads(celerys)["headers"]["id"]  # a new task id per send


def test_send_reaches_the_queue_it_names(queue):
    client, name = queue
    broker.send(parse_job, ["x"], None, name)
    envelope = json.loads(client.rpop(name))
    assert envelope["properties"]["delivery_info"]["routing_key"] == name
    assert json.loads(base64.b64decode(envelope["body"]))[0] == ["x"]


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_does_not_answer_is_503_with_retry_after_and_nothing_reserved(settings, monkeypatch):
    """The API's own process, its broker pointed at a port nobody listens on: the job cannot be sent."""
    from django.test import Client

    from billing.models import CreditAccount, CreditHold
    from parsing import admission, requestlog
    from parsing.models import ParseJob
    from tests.factories import make_key

    key, token = make_key(credits=2)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(broker, "_sender", None)
    monkeypatch.setattr(broker, "_sender_pid", 0)
    # Admission reads the same broker (and cannot: it admits); forget what earlier tests made it read.
    monkeypatch.setattr(admission, "_clients", {})
    monkeypatch.setattr(admission, "_gauges", {})
    response = Client().post("/api/v1/parse", data=json.dumps({"url": "https://www.youtube.com/watch?v=brokerdown1"}),
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    body = response.json()
    assert response.status_code == 503 and body["code"] == "service_unavailable", body
    assert body["reason"] == "queue_unavailable" and response["Retry-After"] == "2"
    account = CreditAccount.objects.get(pk=key.user.pk)
    assert (account.available, account.reserved) == (2, 0)
    assert ParseJob.objects.get().state == "failed" and CreditHold.objects.get().state == "released"
    requestlog.flush()  # this process's log buffer, while the test may still use the database
