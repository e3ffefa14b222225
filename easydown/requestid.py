"""A request id for every request: kept from a well-formed incoming ``X-Request-Id`` (the proxy's), else made
here; sent back as ``X-Request-Id``, written into the error envelope as ``requestId`` and into every log line
the request causes (JSON logs, easydown.requestid.JsonFormatter)."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid

_current: contextvars.ContextVar[str] = contextvars.ContextVar("easydown_request_id", default="")
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
HEADER = b"x-request-id"


def current() -> str:
    return _current.get()


def start(incoming: str | bytes | None) -> str:
    """Begin a request: the incoming id when it is well-formed (8–128 of letters, digits and ``._:-``),
    a new one otherwise."""
    if isinstance(incoming, bytes):
        incoming = incoming.decode("latin-1")
    request_id = incoming if incoming and _WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex
    _current.set(request_id)
    return request_id


def asgi(app):
    """Wrap an ASGI app: every HTTP request gets its id (context for logs and errors, and the response
    header)."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        incoming = next((value for name, value in scope.get("headers", ()) if name == HEADER), None)
        request_id = start(incoming).encode("latin-1")

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", ()) if n.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, request_id)]}
            await send(message)

        return await app(scope, receive, send_with_id)

    return wrapped


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, requestId (inside a request), exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or _current.get()
        if request_id:
            entry["requestId"] = request_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
