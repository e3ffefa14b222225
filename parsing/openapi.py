"""The public API contract in OpenAPI terms, and the error catalogue the docs pages print.

``POST /api/v1/parse`` is a plain async Django view (DRF would cost a thread per waiting request), so
drf-spectacular cannot introspect it: this postprocessing hook writes its contract out by hand, and
the account endpoint's with it, so both read the same components.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .recognition import PLATFORMS


@dataclass(frozen=True)
class ErrorCase:
    status: int
    codes: tuple[str | int, ...]
    when: str
    charged: bool = False


ERRORS: tuple[ErrorCase, ...] = (
    ErrorCase(401, ("missing_token", "invalid_token"), "No, malformed, unknown or revoked token."),
    ErrorCase(401, ("token_expired",), "The key is past its expiry date."),
    ErrorCase(403, ("platform_not_allowed",), "The key may not use the detected platform."),
    ErrorCase(402, ("insufficient_credits",), "No credit available to reserve."),
    ErrorCase(400, (302,), "Unsupported link, or not a single media post (`reason` says which)."),
    ErrorCase(200, (304,), "Public link but no downloadable media (`reason`: private, deleted, login_required, "
                           "region_blocked, live, drm, no_media, upstream_error, …)."),
    ErrorCase(400, ("invalid_request",), "Malformed JSON; missing, non-string, empty or over-4096-character `url`; "
                                         "a `nocache` that is not true or false."),
    ErrorCase(405, ("method_not_allowed",), "Not a POST."),
    ErrorCase(409, ("idempotency_key_in_use",), "A request with the same `Idempotency-Key` is still running."),
    ErrorCase(413, ("payload_too_large",), "Body over 16 KB."),
    ErrorCase(415, ("unsupported_media_type",), "Content-Type is not application/json."),
    ErrorCase(422, ("idempotency_key_reused",), "The `Idempotency-Key` was used with a different body."),
    ErrorCase(429, ("rate_limited",), "Over the key's per-minute limit, or too many failed authentications "
                                      "from one IP. `Retry-After` says when to retry."),
    ErrorCase(451, ("content_restricted",), "An administrator blocked this content (`reason` says why)."),
    ErrorCase(503, ("service_unavailable",), "The queue is down or the platform is switched off."),
    ErrorCase(504, ("upstream_timeout",), "No result within the wait (30 s by default)."),
)

EXAMPLE_RESULT: dict[str, Any] = {
    "platform": "youtube",
    "title": "Example video",
    "thumbnail": "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg",
    "duration": 212,
    "images": [],
    "videos": [{
        "url": "https://rr1---sn.googlevideo.com/videoplayback?…", "quality": "720p", "mimeType": "video/mp4",
        "width": 1280, "height": 720, "hasAudio": True, "source": "direct", "headers": {"User-Agent": "…"},
    }],
    "audios": [{
        "url": "https://rr1---sn.googlevideo.com/videoplayback?…", "mimeType": "audio/mp4", "quality": "medium",
        "source": "direct", "headers": {"User-Agent": "…"},
    }],
    "id": "dQw4w9WgXcQ",
    "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "author": {"name": "Example channel", "id": "UC…", "url": "https://www.youtube.com/channel/UC…"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_HEADERS = {"type": "object", "additionalProperties": {"type": "string"},
            "description": "Request headers the download needs (User-Agent, Referer, …)."}
_TUNNEL = {"type": "string", "format": "uri",
           "description": "The same media through our server (GET /api/v1/media/<token>): no headers needed, "
                          "so it works in an <a href> or a player; valid EASYDOWN_TUNNEL_TTL seconds (one hour)."}
_QUOTED = {"type": "boolean", "description": "Present (true) on media of the post this one quotes (X), which "
                                            "come after the post's own."}
_SCHEMAS: dict[str, Any] = {
    "ParseRequest": {
        "type": "object", "required": ["url"],
        "properties": {"url": {"type": "string", "minLength": 1, "maxLength": 4096,
                               "description": "A public link, or app share text that contains one.",
                               "example": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
                       "nocache": {"type": "boolean", "default": False,
                                   "description": "Parse afresh instead of answering from the result cache "
                                                  "(and refresh the cache)."}},
    },
    "Image": {
        "type": "object", "required": ["url"],
        "properties": {"url": {"type": "string", "format": "uri"}, "width": {"type": "integer", "nullable": True},
                       "height": {"type": "integer", "nullable": True}, "headers": _HEADERS, "tunnel": _TUNNEL,
            "quoted": _QUOTED},
    },
    "Video": {
        "type": "object", "required": ["url"],
        "properties": {
            "url": {"type": "string", "format": "uri"}, "quality": {"type": "string", "nullable": True},
            "mimeType": {"type": "string", "nullable": True}, "width": {"type": "integer", "nullable": True},
            "height": {"type": "integer", "nullable": True}, "hasAudio": {"type": "boolean"},
            "source": {"type": "string", "enum": ["direct", "dash", "hls"]}, "bitrate": {"type": "integer"},
            "headers": _HEADERS, "tunnel": _TUNNEL, "quoted": _QUOTED,
            "mergedTunnel": {"type": "string", "format": "uri",
                             "description": "On a video without sound when the result has audio: this video "
                                            "and the best audio as one MP4, through the tunnel."},
        },
    },
    "Audio": {
        "type": "object", "required": ["url"],
        "properties": {
            "url": {"type": "string", "format": "uri"}, "mimeType": {"type": "string", "nullable": True},
            "quality": {"type": "string", "nullable": True}, "bitrate": {"type": "integer"},
            "source": {"type": "string", "enum": ["direct", "dash", "hls"]}, "headers": _HEADERS, "tunnel": _TUNNEL,
        },
    },
    "Author": {
        "type": "object", "nullable": True,
        "properties": {"name": {"type": "string", "nullable": True}, "id": {"type": "string", "nullable": True},
                       "url": {"type": "string", "nullable": True}},
    },
    "MediaResult": {
        "type": "object", "required": ["platform", "title", "thumbnail", "duration", "images", "videos", "audios"],
        "properties": {
            "platform": {"type": "string", "enum": list(PLATFORMS)},
            "title": {"type": "string"},
            "thumbnail": {"type": "string", "nullable": True},
            "thumbnailTunnel": _TUNNEL,
            "duration": {"type": "number", "description": "Seconds; 0 for images."},
            "images": {"type": "array", "items": _ref("Image")},
            "videos": {"type": "array", "items": _ref("Video")},
            "audios": {"type": "array", "items": _ref("Audio")},
            "id": {"type": "string", "nullable": True, "description": "The platform's media id."},
            "url": {"type": "string", "nullable": True, "description": "The canonical link."},
            "author": _ref("Author"),
            "description": {"type": "string", "description": "The post's text, where the platform gives one."},
            "uploadedAt": {"type": "string", "format": "date-time", "description": "When it was posted (UTC)."},
            "stats": {"type": "object", "description": "Counts as integers (null where the platform gives none).",
                      "properties": {name: {"type": "integer", "nullable": True}
                                     for name in ("views", "likes", "comments", "shares")}},
        },
    },
    "LiveRequest": {
        "type": "object", "required": ["url"],
        "properties": {"url": {"type": "string", "minLength": 1, "maxLength": 4096,
                               "description": "A live room on Bilibili, Douyin, Kuaishou, TikTok or YouTube (or "
                                              "share text that contains one).",
                               "example": "https://live.bilibili.com/21452505"}},
    },
    "Stream": {
        "type": "object", "required": ["url", "format"],
        "properties": {"url": {"type": "string", "format": "uri"},
                       "format": {"type": "string", "enum": ["hls", "flv"]},
                       "quality": {"type": "string", "nullable": True}, "headers": _HEADERS},
    },
    "LiveResult": {
        "type": "object", "required": ["platform", "title", "streams"],
        "properties": {
            "platform": {"type": "string", "enum": list(PLATFORMS)}, "title": {"type": "string"},
            "author": _ref("Author"), "thumbnail": {"type": "string", "nullable": True},
            "streams": {"type": "array", "items": _ref("Stream"),
                        "description": "Ways to watch the room now: an HLS playlist and/or an FLV stream."},
            "id": {"type": "string", "nullable": True, "description": "The room's id."},
            "url": {"type": "string", "nullable": True},
        },
    },
    "LiveSuccess": {
        "type": "object", "required": ["status", "data", "msg"],
        "properties": {"status": {"type": "integer", "enum": [200]}, "data": _ref("LiveResult"),
                       "msg": {"type": "string", "enum": ["success"]}},
    },
    "CollectionRequest": {
        "type": "object", "required": ["url"],
        "properties": {"url": {"type": "string", "minLength": 1, "maxLength": 4096,
                               "description": "A YouTube playlist, a Bilibili multi-part video, collection or "
                                              "series, a Douyin mix, or a NetEase Cloud Music playlist or album.",
                               "example": "https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG"},
                       "page": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1,
                                "description": "Which page of 50 items (from 1)."},
                       "nocache": {"type": "boolean", "default": False}},
    },
    "CollectionItem": {
        "type": "object", "required": ["index", "id", "url"],
        "properties": {"index": {"type": "integer", "description": "From 1, over the whole collection."},
                       "id": {"type": "string"}, "title": {"type": "string"},
                       "url": {"type": "string", "format": "uri", "description": "A link POST /api/v1/parse takes."},
                       "duration": {"type": "number", "nullable": True},
                       "thumbnail": {"type": "string", "nullable": True}},
    },
    "CollectionPage": {
        "type": "object", "required": ["platform", "title", "total", "page", "nextPage", "items"],
        "properties": {
            "platform": {"type": "string", "enum": list(PLATFORMS)}, "title": {"type": "string"},
            "author": _ref("Author"), "thumbnail": {"type": "string", "nullable": True},
            "total": {"type": "integer", "description": "Items in the whole collection."},
            "page": {"type": "integer"},
            "nextPage": {"type": "integer", "nullable": True, "description": "null on the last page."},
            "items": {"type": "array", "maxItems": 50, "items": _ref("CollectionItem")},
            "id": {"type": "string", "nullable": True}, "url": {"type": "string", "nullable": True},
        },
    },
    "CollectionSuccess": {
        "type": "object", "required": ["status", "data", "msg"],
        "properties": {"status": {"type": "integer", "enum": [200]}, "data": _ref("CollectionPage"),
                       "msg": {"type": "string", "enum": ["success"]}},
    },
    "ParseSuccess": {
        "type": "object", "required": ["status", "data", "msg"],
        "properties": {"status": {"type": "integer", "enum": [200]}, "data": _ref("MediaResult"),
                       "msg": {"type": "string", "enum": ["success"]}},
        "example": {"status": 200, "data": EXAMPLE_RESULT, "msg": "success"},
    },
    "Error": {
        "type": "object", "required": ["status", "data", "msg", "code"],
        "description": "Every error. `status` always equals the HTTP status; nothing is charged.",
        "properties": {
            "status": {"type": "integer"},
            "data": {"type": "object", "nullable": True, "enum": [None]},
            "msg": {"type": "string"},
            "code": {"oneOf": [{"type": "string"}, {"type": "integer"}],
                     "description": "A stable snake_case code, or the documented integers 302 and 304."},
            "reason": {"type": "string", "description": "A machine-readable detail for 302, 304 and 451."},
        },
    },
    "Account": {
        "type": "object",
        "properties": {
            "status": {"type": "integer", "enum": [200]},
            "data": {"type": "object", "properties": {
                "available": {"type": "integer"}, "reserved": {"type": "integer"},
                "key": {"type": "object", "properties": {
                    "name": {"type": "string"},
                    "platforms": {"type": "array", "items": {"type": "string", "enum": list(PLATFORMS)}},
                    "expiresOn": {"type": "string", "format": "date", "nullable": True},
                }},
            }},
            "msg": {"type": "string", "enum": ["success"]},
        },
    },
}

_RATE_HEADERS = {
    "RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests allowed per one-minute window."},
    "RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Requests left in this window."},
    "RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Seconds until the window resets."},
}


def _error_example(case: ErrorCase) -> dict[str, Any]:
    body: dict[str, Any] = {"status": case.status, "data": None, "msg": "…", "code": case.codes[0]}
    if case.codes[0] in (302, 304, "content_restricted"):
        body["reason"] = {302: "not_a_post", 304: "private", "content_restricted": "copyright"}[case.codes[0]]
    return body


def _error_response(status: int) -> dict[str, Any]:
    cases = [c for c in ERRORS if c.status == status and c.codes != (304,)]
    headers = dict(_RATE_HEADERS)
    if status == 429:
        headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "Seconds to wait."}
    return {
        "description": " ".join(f"`{'` / `'.join(map(str, c.codes))}`: {c.when}" for c in cases),
        "headers": headers,
        "content": {"application/json": {
            "schema": _ref("Error"),
            "examples": {str(c.codes[0]): {"value": _error_example(c)} for c in cases},
        }},
    }


def parse_operation() -> dict[str, Any]:
    no_media = next(c for c in ERRORS if c.codes == (304,))
    responses: dict[str, Any] = {
        "200": {
            "description": "The unified result (one credit charged), or code 304: a public link with no "
                           "downloadable media (nothing charged).",
            "headers": {**_RATE_HEADERS, "Easydown-Job": {"schema": {"type": "string", "format": "uuid"}},
                        "Cached-On": {"schema": {"type": "string"},
                                      "description": "Present when the result came from the result cache: the "
                                                     "HTTP date it was made. A cached answer costs one credit, "
                                                     "like any successful parse."},
                        "Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]},
                                                "description": "This is the stored answer to an earlier "
                                                               "request with the same Idempotency-Key."}},
            "content": {"application/json": {
                "schema": {"oneOf": [_ref("ParseSuccess"), _ref("Error")]},
                "examples": {"success": {"value": {"status": 200, "data": EXAMPLE_RESULT, "msg": "success"}},
                             "no_media": {"value": _error_example(no_media)}},
            }},
        },
    }
    for status in sorted({c.status for c in ERRORS if c.status != 200}):
        responses[str(status)] = _error_response(status)
    return {
        "operationId": "parse",
        "summary": "Parse a link into direct media URLs",
        "description": "Recognises the platform, checks the key's permissions and the block list, answers "
                       "from the result cache when the media was parsed recently (with `Cached-On`), or "
                       "reserves one credit and waits for the result. Only a successful result is charged.",
        "tags": ["parse"],
        "security": [{"bearerAuth": []}],
        "parameters": [{
            "name": "Idempotency-Key", "in": "header", "required": False,
            "description": "Makes a retry safe: a repeat with the same key and body within 24 hours gets the "
                           "first answer again (with `Idempotent-Replayed: true`), runs nothing and charges "
                           "nothing. Scoped to the account.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
        }],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ParseRequest")}}},
        "responses": responses,
    }


def metered_operation(operation: str) -> dict[str, Any]:
    """/live and /collection: /parse's pipeline, errors and headers, with their own request and result."""
    base = parse_operation()
    success, request, what = {"live": ("LiveSuccess", "LiveRequest", "a live room's streams"),
                              "collection": ("CollectionSuccess", "CollectionRequest", "one page of a collection")
                              }[operation]
    reason = {"live": "`offline` (the room is not live now)", "collection": "`no_such_page` (past the end)"}
    base["responses"]["200"] = {
        **base["responses"]["200"],
        "description": f"{what[0].upper()}{what[1:]} (one credit charged), or code 304 (nothing charged): "
                       f"{reason[operation]}, private, deleted, login or region walls.",
        "content": {"application/json": {"schema": {"oneOf": [_ref(success), _ref("Error")]}}},
    }
    base.update({
        "operationId": operation,
        "summary": {"live": "The streams of a live room", "collection": "A page of a playlist or collection"
                    }[operation],
        "description": f"The same metered path as /parse (keys, platform permissions, rate limits, block list, "
                       f"Idempotency-Key, result cache) for {what}. One credit per success"
                       + (" (per page)." if operation == "collection" else "; live rooms are never cached.")
                       + " A link the endpoint does not serve is 400 with code 302.",
        "tags": [operation],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(request)}}},
    })
    return base


def account_operation() -> dict[str, Any]:
    return {
        "operationId": "account",
        "summary": "The balance and the calling key's permissions",
        "tags": ["account"],
        "security": [{"bearerAuth": []}],
        "responses": {
            "200": {"description": "Balance and key.", "headers": _RATE_HEADERS,
                    "content": {"application/json": {"schema": _ref("Account")}}},
            "401": _error_response(401),
        },
    }


def _plain_error(description: str, code: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error"), "examples": {
        code: {"value": {"status": 0, "data": None, "msg": "…", "code": code}}}}}}


def media_operation(method: str) -> dict[str, Any]:
    return {
        "operationId": f"media_{method}",
        "summary": "Download a result's media through the tunnel" if method == "get" else "The media's headers",
        "description": "The `tunnel` (or `mergedTunnel`, `thumbnailTunnel`) link of a parse result: streams the "
                       "media from the platform's CDN with the headers it needs. No bearer token: the link is "
                       "signed, issued to the key that parsed, and lives `EASYDOWN_TUNNEL_TTL` seconds (one "
                       "hour). Forwards one `bytes=` `Range` (and `If-Range`); `?download=1` adds "
                       "`Content-Disposition: attachment`. Downloads cost no credit. A merged link remuxes a "
                       "silent DASH video with the best audio into one fragmented MP4 (no ranges).",
        "tags": ["media"],
        "security": [],
        "parameters": [
            {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "download", "in": "query", "required": False, "schema": {"type": "string", "enum": ["1"]}},
            {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"},
             "example": "bytes=0-1048575"},
        ],
        "responses": {
            "200": {"description": "The media.", "content": {"*/*": {"schema": {"type": "string",
                                                                                "format": "binary"}}}},
            "206": {"description": "The requested byte range (`Content-Range`)."},
            "403": _plain_error("`invalid_signature`: the link was changed or is not ours.", "invalid_signature"),
            "410": _plain_error("`media_expired`: the link or the CDN URL behind it expired; parse again.",
                                "media_expired"),
            "416": {"description": "The range is outside the file."},
            "429": _plain_error("`rate_limited`: too many concurrent downloads for the key (`Retry-After`).",
                                "rate_limited"),
            "502": _plain_error("`upstream_error`: the CDN failed or the address is not allowed.", "upstream_error"),
            "504": _plain_error("`upstream_timeout`: the CDN did not answer in time.", "upstream_timeout"),
        },
    }


HAND_WRITTEN = ("/api/v1/parse", "/api/v1/live", "/api/v1/collection", "/api/v1/account")


def skip_hand_written(endpoints: list[tuple]) -> list[tuple]:
    """drf-spectacular preprocessing hook: leave the endpoints documented here to ``document_api``, and
    keep operational ones (such as /healthz) out of the public reference."""
    return [e for e in endpoints if e[0].startswith("/api/") and e[0] not in HAND_WRITTEN
            and not e[0].startswith(("/api/schema/", "/api/docs/"))]  # the reference itself is no endpoint


def document_api(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the hand-written endpoints, schemas and bearer auth."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).update(_SCHEMAS)
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http", "scheme": "bearer", "bearerFormat": "ed_live_…",
        "description": "An API key from the dashboard: `Authorization: Bearer ed_live_…`.",
    }
    # Hand-written paths first, in the order a reader needs them.
    result["paths"] = {"/api/v1/parse": {"post": parse_operation()},
                       "/api/v1/live": {"post": metered_operation("live")},
                       "/api/v1/collection": {"post": metered_operation("collection")},
                       "/api/v1/account": {"get": account_operation()},
                       "/api/v1/media/{token}": {"get": media_operation("get"), "head": media_operation("head")},
                       **result.get("paths", {})}
    result["security"] = [{"bearerAuth": []}]
    result.setdefault("info", {})["description"] = (
        "Call `POST /api/v1/parse` with `Authorization: Bearer ed_live_…` and a public link from TikTok, "
        "Douyin, YouTube, X/Twitter, Instagram, Xiaohongshu, Bilibili, Kuaishou, Weibo, AcFun, NetEase Cloud Music, "
        "Kugou or Migu. A successful "
        "parse costs one credit; every error costs nothing. `POST /api/v1/live` (a live room's streams) and "
        "`POST /api/v1/collection` (a page of a playlist or collection) are metered the same way.\n\n"
        "Rate limits are fixed one-minute windows per key, so up to twice the limit can pass across a "
        "window edge. Every response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`."
    )
    return result
