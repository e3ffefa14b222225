"""Celery's Redis transport, keeping one Redis client per channel instead of building one per command.

kombu's Redis channel makes a new ``redis.Redis`` object (with its table of response callbacks) for every
message it publishes and for every acknowledgement, which was a fifth of the worker's CPU per parse
(measured in bench/parse_path.py). A ``redis.Redis`` is safe to share between threads: each command takes
its own connection from the pool. The client is made again whenever the channel replaces its pool (after a
connection error), so a reconnect works as before.
"""

from __future__ import annotations

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
