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
