"""One error hierarchy for the public API, and the renderers that put it in the documented envelope.

Every error body is ``{"status": <HTTP status>, "data": null, "msg": ..., "code": ...}``; the body's
``status`` always equals the HTTP status. Views raise; they never build error bodies by hand.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response


class ApiError(Exception):
    """An error with a stable code and HTTP status, rendered in the envelope."""

    status: int = 400
    code: str | int = "invalid_request"
    msg: str = "Bad request"

    def __init__(self, msg: str | None = None, *, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.msg = msg or self.msg
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(self.msg)

    def body(self) -> dict[str, Any]:
        from .requestid import current

        body = {"status": self.status, "data": None, "msg": self.msg, "code": self.code, **self.extra}
        if request_id := current():
            body["requestId"] = request_id
        return body


class InvalidRequest(ApiError):
    status, code, msg = 400, "invalid_request", "Bad request"


class MissingToken(ApiError):
    status, code, msg = 401, "missing_token", "Unauthorized"


class InvalidToken(ApiError):
    status, code, msg = 401, "invalid_token", "Unauthorized"


class TokenExpired(ApiError):
    status, code, msg = 401, "token_expired", "The API token has passed its expiration date"


class InsufficientCredits(ApiError):
    status, code, msg = 402, "insufficient_credits", "The account does not have enough credits"


class PlatformNotAllowed(ApiError):
    status, code, msg = 403, "platform_not_allowed", "The API token is not allowed for this platform"


class NotFound(ApiError):
    status, code, msg = 404, "not_found", "Not found"


class MethodNotAllowed(ApiError):
    status, code, msg = 405, "method_not_allowed", "Method not allowed"


class IdempotencyKeyInUse(ApiError):
    status, code, msg = 409, "idempotency_key_in_use", "A request with this Idempotency-Key is still running"


class IdempotencyKeyReused(ApiError):
    status, code, msg = 422, "idempotency_key_reused", "This Idempotency-Key was used with a different request"


class PayloadTooLarge(ApiError):
    status, code, msg = 413, "payload_too_large", "Request body too large"


class UnsupportedMediaType(ApiError):
    status, code, msg = 415, "unsupported_media_type", "Content-Type must be application/json"


class RateLimited(ApiError):
    status, code, msg = 429, "rate_limited", "Too many requests"


class ContentRestricted(ApiError):
    status, code, msg = 451, "content_restricted", "This content is restricted"


class InternalError(ApiError):
    status, code, msg = 500, "internal_error", "Internal error"


class ServiceUnavailable(ApiError):
    status, code, msg = 503, "service_unavailable", "Service temporarily unavailable"


class UpstreamTimeout(ApiError):
    status, code, msg = 504, "upstream_timeout", "The platform did not answer in time"


class UnsupportedUrl(ApiError):
    """The documented 400 with integer code 302."""

    status, code, msg = 400, 302, "The URL format is unsupported or not a single supported media post"


class NoMedia(ApiError):
    """The documented HTTP 200 with integer code 304; ``reason`` says why, machine-readably."""

    status, code, msg = 200, 304, "Could not return downloadable media for this link"


def error_response(exc: ApiError) -> JsonResponse:
    response = JsonResponse(exc.body(), status=exc.status, json_dumps_params={"ensure_ascii": False})
    for name, value in exc.headers.items():
        response[name] = value
    return response


_DRF_MAP: dict[type[Exception], type[ApiError]] = {
    drf_exceptions.NotAuthenticated: MissingToken,
    drf_exceptions.AuthenticationFailed: InvalidToken,
    drf_exceptions.MethodNotAllowed: MethodNotAllowed,
    drf_exceptions.UnsupportedMediaType: UnsupportedMediaType,
    drf_exceptions.ParseError: InvalidRequest,
    drf_exceptions.NotFound: NotFound,
    drf_exceptions.ValidationError: InvalidRequest,
    drf_exceptions.Throttled: RateLimited,
}


def dependency_failure(exc: BaseException) -> bool:
    """An error that means a service we depend on (Redis, PostgreSQL) failed, not a bug: 503, not 500."""
    import redis
    from django.db import InterfaceError, OperationalError
    from psycopg_pool import PoolTimeout

    return isinstance(exc, redis.RedisError | OperationalError | InterfaceError | PoolTimeout)


def as_api_error(exc: Exception) -> ApiError | None:
    """Translate DRF's and Django's own exceptions into our hierarchy; None when unknown."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404
    from django_ratelimit.exceptions import Ratelimited

    if isinstance(exc, ApiError):
        return exc
    if dependency_failure(exc):
        return ServiceUnavailable(headers={"Retry-After": "2"})
    if isinstance(exc, Ratelimited):  # a PermissionDenied subclass: must be checked first
        return RateLimited()
    if isinstance(exc, Http404):
        return NotFound()
    for drf_type, ours in _DRF_MAP.items():
        if isinstance(exc, drf_type):
            return ours()
    if isinstance(exc, drf_exceptions.PermissionDenied | PermissionDenied):
        err = ApiError("Permission denied")
        err.status, err.code = 403, "permission_denied"
        return err
    if isinstance(exc, drf_exceptions.APIException):
        err = ApiError(str(exc.detail))
        err.status, err.code = exc.status_code, exc.default_code
        return err
    return None


def drf_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF EXCEPTION_HANDLER: every error in the envelope, never a stack trace."""
    error = as_api_error(exc)
    if error is None:
        return None
    _log_refusal(error, context.get("request"))
    response = Response(error.body(), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def _log_refusal(error: ApiError, request) -> None:
    """A refused call to a DRF endpoint goes into its key's owner's request log, or counts against its IP."""
    from parsing import requestlog

    # Never ``request.auth`` here: on a failed authentication reading it authenticates again (and counts again).
    key = getattr(error, "key", None) or (getattr(request, "__dict__", {}).get("_auth") if request else None)
    if key is not None and getattr(key, "user_id", None):
        requestlog.record(key=key, endpoint=request.path[:40], status=error.status, code=error.code,
                          reason=str(error.extra.get("reason", "")))
    elif isinstance(error, MissingToken | InvalidToken | RateLimited) and request is not None:
        from .ratelimits import client_ip

        requestlog.record_auth_failure(client_ip(request))
