"""API token format: ``ed_live_`` + 43 base62 characters (256 bits) + a 6-character CRC32 checksum.

The checksum lets a malformed or mistyped token be refused without touching the database, as
GitHub's token format does. Tokens are stored only as HMAC-SHA256 under a server-side pepper.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib

from django.conf import settings

PREFIX = "ed_live_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_CHARS = 43  # 62**43 > 2**256
_CHECKSUM_CHARS = 6
_TOKEN_RE = re.compile(rf"^{PREFIX}[0-9A-Za-z]{{{_RANDOM_CHARS + _CHECKSUM_CHARS}}}$")


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECKSUM_CHARS)


def generate() -> str:
    """Return a new plaintext token."""
    body = _base62(secrets.randbits(256), _RANDOM_CHARS)
    return f"{PREFIX}{body}{_checksum(body)}"


def is_well_formed(token: str) -> bool:
    """True when the token has our prefix, length, alphabet and a matching checksum."""
    if not _TOKEN_RE.match(token):
        return False
    body, check = token[len(PREFIX):-_CHECKSUM_CHARS], token[-_CHECKSUM_CHARS:]
    return hmac.compare_digest(_checksum(body), check)


def digest(token: str) -> str:
    """HMAC-SHA256 of the token under the pepper, hex; the only form that is stored."""
    return hmac.new(settings.API_KEY_PEPPER.encode(), token.encode(), hashlib.sha256).hexdigest()


def display_prefix(token: str) -> str:
    return token[: len(PREFIX) + 4]


def last_four(token: str) -> str:
    return token[-4:]
