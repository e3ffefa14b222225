"""Celery's Redis transport, keeping one Redis client per channel instead of building one per command.

kombu's Redis channel makes a new ``redis.Redis`` object (with its table of response callbacks) for every
message it publishes and for every acknowledgement, which was a fifth of the worker's CPU per parse
(measured in bench/parse_path.py). A ``redis.Redis`` is safe to share between threads: each command takes
its own connection from the pool. The client is made again whenever the channel replaces its pool (after a
connection error), so a reconnect works as before.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import socket
import uuid

import redis
from django.conf import settings
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _shared_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._shared_client
        if client is None or client.connection_pool is not self.pool:
            client = self._shared_client = super()._create_client()
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel


# --- sending a task without Celery's publishing machinery ---------------------------------------------
#
# apply_async costs the API about 0.45 ms of CPU per parse (routing, building the message through several
# layers, kombu's retrying producer), measured in bench/parse_path.py as a fifth of the API's time on the
# paid path. What it leaves in Redis is small and fixed: Celery's task message protocol 2, in kombu's
# Redis envelope, pushed onto the queue's list. `send` builds exactly that and pushes it in one command.
# tests/test_broker.py compares it with what apply_async writes, so a Celery or kombu upgrade that changes
# the format fails there, and every API test runs it against a real worker.

_sender: redis.Redis | None = None
_sender_pid = 0


def _client() -> redis.Redis:
    global _sender, _sender_pid
    if _sender is None or _sender_pid != os.getpid():
        timeout = float(settings.CELERY_BROKER_CONNECTION_TIMEOUT or 1.0)
        _sender = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=timeout,
                                       socket_connect_timeout=timeout)
        _sender_pid = os.getpid()
    return _sender


@functools.cache
def _headers_template(task, pid: int) -> dict:
    """A task's message headers but for the four that change per message (the task's settings and this
    process's origin are read once: Celery's task and app attributes go through proxies)."""
    conf = task.app.conf
    time_limit = task.time_limit if task.time_limit is not None else conf.task_time_limit
    soft_limit = task.soft_time_limit if task.soft_time_limit is not None else conf.task_soft_time_limit
    return {
        "lang": "py", "task": task.name, "id": None, "shadow": None, "eta": None, "expires": None,
        "group": None, "group_index": None, "retries": 0, "timelimit": [time_limit, soft_limit],
        "root_id": None, "parent_id": None, "argsrepr": None, "kwargsrepr": None,
        "origin": f"gen{pid}@{socket.gethostname()}", "ignore_result": task.ignore_result,
        "replaced_task_nesting": 0, "stamped_headers": None, "stamps": {},
    }


_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


def message(task, args: list, kwargs: dict, queue: str, task_id: str | None = None) -> bytes:
    """The bytes apply_async would push onto ``queue`` for ``task(*args, **kwargs)`` (no eta, expiry,
    priority, group, chain or result)."""
    task_id = task_id or str(uuid.uuid4())
    headers = _headers_template(task, os.getpid()).copy()
    headers["id"] = headers["root_id"] = task_id
    headers["argsrepr"], headers["kwargsrepr"] = repr(args), repr(kwargs)
    body = json.dumps([args, kwargs, _EMBED])
    envelope = {
        "body": base64.b64encode(body.encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {
            "correlation_id": task_id, "reply_to": "", "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue}, "priority": 0,
            "body_encoding": "base64", "delivery_tag": str(uuid.uuid4()),
        },
    }
    return json.dumps(envelope).encode()


def send(task, args: list, kwargs: dict | None, queue: str) -> None:
    """Enqueue ``task`` on ``queue`` as apply_async would; raises a redis error when the broker does not
    answer. Falls back to apply_async where the broker is not Redis or tasks run in-process."""
    kwargs = kwargs or {}
    if settings.CELERY_TASK_ALWAYS_EAGER or not (settings.CELERY_BROKER_URL or "").startswith("redis://"):
        task.apply_async(args=args, kwargs=kwargs, queue=queue)
        return
    client = _client()
    client.lpush(queue, message(task, args, kwargs, queue))
