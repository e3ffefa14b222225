"""ASGI entry point.

The machine API (/api/ and /healthz) is served by a handler without the dashboard's middleware:
Django's session, CSRF, auth, message and WhiteNoise middleware are synchronous, and in front of the
async parse view they would bounce every request between the event loop and worker threads several
times (measured in bench/parse_path.py). API requests authenticate with bearer keys and need none of
them. Everything else goes through the full stack.
"""

import asyncio
import io
import json
import os

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.test.utils import override_settings

from easydown import metrics, requestid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "easydown.settings")
site = get_asgi_application()

from parsing.checks import require_valid_settings  # noqa: E402 - needs the apps loaded

require_valid_settings()  # a cookies file that would fail every parse stops the start, naming the file

API_PREFIXES = ("/api/v1/", "/healthz", "/readyz", "/metrics")
API_MIDDLEWARE: list[str] = []
# The metered endpoints: POST /api/v1/<operation> (parse, live, collection), one pipeline.
OPERATION_PATHS = {"/api/v1/parse": "parse", "/api/v1/live": "live", "/api/v1/collection": "collection"}
MEDIA_PREFIX = "/api/v1/media/"


class ApiHandler(ASGIHandler):
    """An ASGIHandler whose middleware chain is API_MIDDLEWARE instead of settings.MIDDLEWARE, and whose
    parse requests get no thread of their own.

    Django's handler opens a ThreadSensitiveContext per request, so its synchronous signal receivers run
    in a new thread that lives as long as the request: 1,000 parses waiting on platforms meant 1,000 idle
    threads in the API (measured in bench/capacity.py). For the parse view those receivers
    (request_started and request_finished: closing the connections of a thread that holds none) share
    asgiref's one thread-sensitive thread, and the view does its database work on its own pool of threads
    (parsing.api.in_thread). The synchronous views (/healthz, /readyz, /api/v1/account) keep a thread per
    request, so a slow database behind one of them never holds up the others.

    A POST to a metered path (parse, live, collection) goes straight to the view (``_serve_operation``): no
    URL resolution, and none of the handler's per-request signals, each of which costs a hop to asgiref's
    thread (request_started and request_finished close the database connections of a thread that holds none;
    the view's own threads look after theirs). Measured in bench/parse_path.py.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        with override_settings(MIDDLEWARE=API_MIDDLEWARE):
            super().load_middleware(is_async=is_async)

    async def __call__(self, scope, receive, send):
        timed = _body_deadline(receive, settings.BODY_TIMEOUT)
        try:
            if scope["method"] == "POST" and (operation := OPERATION_PATHS.get(scope["path"])):
                await self._serve_operation(scope, timed, send, operation)
            elif scope["path"] == "/metrics":
                await metrics.serve(scope, timed, send)
            elif scope["path"].startswith(MEDIA_PREFIX):
                from parsing.tunnel import serve

                await serve(scope, timed, send)
            elif scope["path"] in OPERATION_PATHS:  # another method: the view answers 405 in the envelope
                await self.handle(scope, timed, send)
            else:
                await super().__call__(scope, timed, send)
        except _BodyTimeout:
            await _send_json(send, 408, {"status": 408, "data": None, "code": "request_timeout",
                                         "msg": "The request body did not arrive in time"})

    async def _serve_operation(self, scope, receive, send, operation: str) -> None:
        from parsing.api import serve

        body = await _read_body(receive, limit=settings.MAX_BODY_BYTES)
        if body is None:
            return  # the client left before its body arrived
        try:
            request = ASGIRequest(scope, io.BytesIO(body))
        except UnicodeDecodeError:  # a query string that is not UTF-8 (Django's own handler answers 400 too)
            await _send_json(send, 400, {"status": 400, "data": None, "code": "invalid_request",
                                         "msg": "The request line is not valid UTF-8"})
            return
        view = asyncio.ensure_future(serve(request, operation))
        gone = asyncio.ensure_future(_disconnect(receive))
        await asyncio.wait([view, gone], return_when=asyncio.FIRST_COMPLETED)
        if not view.done():
            # The client went away: the view settles its job without a charge when cancelled.
            view.cancel()
            await asyncio.gather(view, return_exceptions=True)
            return
        gone.cancel()
        try:
            await self.send_response(view.result(), send)
        except (asyncio.CancelledError, OSError):
            pass


async def _read_body(receive, *, limit: int) -> bytes | None:
    """The request body, or None if the client disconnected first. Past ``limit`` bytes the rest is not
    kept: one byte more than the limit is enough for the view to answer 413."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if size <= limit and chunk:
            chunks.append(chunk[: limit + 1 - size])
            size += len(chunks[-1])
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _disconnect(receive) -> None:
    """Return when the client disconnects (the only message after a complete body)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class _BodyTimeout(Exception):
    pass


def _body_deadline(receive, seconds: float):
    """``receive`` that gives the client ``seconds`` for each part of its body (a Content-Length larger
    than what it sends would otherwise hold the request forever); no limit once the body is complete."""
    complete = False

    async def timed():
        nonlocal complete
        if complete:
            return await receive()
        try:
            async with asyncio.timeout(seconds):
                message = await receive()
        except TimeoutError:
            raise _BodyTimeout() from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            complete = True
        return message

    return timed


async def _send_json(send, status: int, body: dict) -> None:
    if request_id := requestid.current():
        body = {**body, "requestId": request_id}
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


api = ApiHandler()


async def _route(scope, receive, send):
    if scope["type"] != "http":
        return await site(scope, receive, send)
    status = 0

    async def counted(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    try:
        if scope["path"].startswith(API_PREFIXES):
            return await api(scope, receive, counted)
        return await site(scope, receive, counted)
    finally:
        if status:
            metrics.REQUESTS.labels(metrics.endpoint_of(scope["path"]), str(status)).inc()


# Every request gets its id (X-Request-Id back, requestId in the error envelope, requestId in its log lines).
application = requestid.asgi(_route)
