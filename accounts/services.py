"""Writes to users and API keys. Each returns what the caller needs; plaintext tokens only once."""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from easydown import hotsql
from easydown.exceptions import InvalidRequest, InvalidToken, MissingToken, TokenExpired
from parsing.recognition import PLATFORMS

from . import keycache, tokens
from .models import ApiKey, User

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _clean_platforms(platforms: Iterable[str] | None) -> list[str]:
    """None or an empty iterable means every platform; otherwise a sorted subset of PLATFORMS."""
    chosen = sorted({p.strip().lower() for p in (platforms or []) if p and p.strip()})
    unknown = [p for p in chosen if p not in PLATFORMS]
    if unknown:
        raise InvalidRequest(f"Unknown platform(s): {', '.join(unknown)}")
    return [] if set(chosen) == set(PLATFORMS) else chosen


def _set_token(key: ApiKey) -> str:
    token = tokens.generate()
    key.token_hash = tokens.digest(token)
    key.token_prefix = tokens.display_prefix(token)
    key.token_last4 = tokens.last_four(token)
    return token


class KeyAlreadyCreated(Exception):
    """The creation form with this one-time number already made its key (a reload or a second click)."""

    def __init__(self, key: ApiKey) -> None:
        super().__init__(key.name)
        self.key = key


def api_key_create(*, user: User, name: str, platforms: Iterable[str] | None = None,
                   expires_on: dt.date | None = None, rate_limit_per_minute: int | None = None,
                   creation_nonce: uuid.UUID | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns the key and its plaintext token, which is never available again. With the form's
    ``creation_nonce``, a second request with the same one makes nothing and raises KeyAlreadyCreated."""
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("A key needs a name")
    key = ApiKey(user=user, name=name[:100], platforms=_clean_platforms(platforms), expires_on=expires_on,
                 rate_limit_per_minute=rate_limit_per_minute, creation_nonce=creation_nonce)
    token = _set_token(key)
    try:
        with transaction.atomic():
            key.save()
    except IntegrityError:
        existing = ApiKey.objects.filter(user=user, creation_nonce=creation_nonce).first()
        if creation_nonce is None or existing is None:
            raise
        raise KeyAlreadyCreated(existing) from None
    return key, token


@transaction.atomic
def api_key_update(*, key: ApiKey, name: str, platforms: Iterable[str] | None,
                   expires_on: dt.date | None) -> ApiKey:
    """Change name, permissions and expiry; the token stays the same."""
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("A key needs a name")
    key.name = name[:100]
    key.platforms = _clean_platforms(platforms)
    key.expires_on = expires_on
    key.save(update_fields=["name", "platforms", "expires_on"])
    return key


@transaction.atomic
def api_key_rotate(*, key: ApiKey) -> tuple[ApiKey, str]:
    """Give the key a new token (same row and permissions); the old token stops working at once."""
    if key.revoked_at:
        raise InvalidRequest("A revoked key cannot be reset")
    token = _set_token(key)
    key.rotated_at = timezone.now()
    key.save(update_fields=["token_hash", "token_prefix", "token_last4", "rotated_at"])
    return key, token


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke the key for good; idempotent."""
    if key.revoked_at is None:
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        keycache.changed()  # an update() sends no signal
        key.refresh_from_db(fields=["revoked_at"])
    return key


def bearer_token(header: str | None) -> str:
    """The token from an ``Authorization`` header value; raises MissingToken or InvalidToken."""
    if not header or not header.strip():
        raise MissingToken()
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken()
    return token.strip()


def api_key_authenticate(*, header: str | None, copies: bool = False, fresh: bool = False) -> ApiKey:
    """Resolve an Authorization header to an active key with one indexed query (with ``copies``, none when
    this process kept the key lately: accounts.keycache, whose ``confirm`` the caller then asks; with
    ``fresh`` too, the key is read from the database and kept, never taken from a copy).

    Raises MissingToken, InvalidToken (malformed, unknown or revoked) or TokenExpired.
    """
    token = bearer_token(header)
    if not tokens.is_well_formed(token):
        raise InvalidToken()
    digest = tokens.digest(token)
    key = keycache.copy(digest) if copies and not fresh else None
    if key is None:
        vouch = keycache.seen()
        key, user_active = _key_by_hash(digest) or (None, False)
        if key is None or key.revoked_at is not None or not user_active:
            if copies:
                keycache.drop(digest)  # refused now: no copy may answer for this token
            raise InvalidToken() if key is None else _naming(InvalidToken(), key)
        if copies:
            keycache.keep(key, vouch)
    now = timezone.now()
    if key.is_expired(now):
        raise _naming(TokenExpired(), key)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        # Written at most once a minute, conditionally, so concurrent requests do not all write.
        ApiKey.objects.filter(pk=key.pk).exclude(last_used_at__gt=now - LAST_USED_RESOLUTION).update(
            last_used_at=now
        )
        key.last_used_at = now
    return key


def _naming(error: Exception, key: ApiKey) -> Exception:
    """A refusal of a recognisable key remembers which (for its owner's request log), never shown to the caller."""
    error.key = key  # type: ignore[attr-defined]
    return error


_KEY_FIELDS = ("id", "public_id", "user_id", "name", "platforms", "expires_on", "rate_limit_per_minute",
               "revoked_at", "last_used_at")


@functools.cache
def _key_sql() -> str:
    columns = ", ".join(f"k.{name}" for name in _KEY_FIELDS)
    return (f"SELECT {columns}, u.is_active FROM {ApiKey._meta.db_table} k "
            f"JOIN {User._meta.db_table} u ON u.id = k.user_id WHERE k.token_hash = %s")


def _key_by_hash(token_hash: str) -> tuple[ApiKey, bool] | None:
    """The key with this token hash (the fields authentication and the parse path read) and whether its
    owner is active: one indexed query, a prepared statement on PostgreSQL (every paid request runs it)."""
    if connection.vendor != "postgresql":
        key = ApiKey.objects.select_related("user").filter(token_hash=token_hash).first()
        return None if key is None else (key, key.user.is_active)
    row = hotsql.one(_key_sql(), [token_hash])
    if row is None:
        return None
    values = dict(zip(_KEY_FIELDS, row[:-1], strict=True))
    if isinstance(values["platforms"], str):  # Django loads jsonb as text
        values["platforms"] = json.loads(values["platforms"])
    return ApiKey(token_hash=token_hash, **values), row[-1]


def api_key_authenticate_request(request: HttpRequest, *, copies: bool = False, fresh: bool = False) -> ApiKey:
    """The request's API key, for every endpoint that takes one. Failed attempts count against the client
    IP: past the limit they get 429 instead of 401 (a valid key is never slowed down by them)."""
    from easydown.exceptions import ApiError, RateLimited
    from easydown.ratelimits import auth_failure_usage

    try:
        return api_key_authenticate(header=request.META.get("HTTP_AUTHORIZATION"), copies=copies, fresh=fresh)
    except ApiError as exc:
        usage = auth_failure_usage(request, increment=True)
        if usage.limited:
            limited = RateLimited(headers=usage.headers())
            limited.key = getattr(exc, "key", None)  # type: ignore[attr-defined]
            raise limited from None
        exc.headers.update(usage.headers())
        raise
