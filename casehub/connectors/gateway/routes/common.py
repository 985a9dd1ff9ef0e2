"""What every route shares: documented problem answers and their headers, and a size-bounded body reader."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from casehub.connectors.gateway.exceptions import RequestInvalid
from casehub.connectors.gateway.problems import MEDIA_TYPE

PROBLEM_REF = "#/components/schemas/Problem"
RETRY_AFTER = {"description": "Seconds to wait before retrying", "schema": {"type": "integer", "minimum": 1}}
RATE_LIMIT_HEADERS: dict[str, Any] = {
    "RateLimit-Limit": {"description": "Requests the partner may make a minute (the bucket's size)",
                        "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in the bucket now", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the bucket is full again", "schema": {"type": "integer"}},
    "RateLimit-Policy": {"description": "The policy: `<limit>;w=60` (a token bucket refilled over 60 s)",
                         "schema": {"type": "string"}},
}
_DESCRIBED = {
    400: "The request cannot be read (not JSON, bad header or parameter)",
    401: "Missing, unknown or revoked API key",
    403: "The key may not do this (an operator key on a partner route, or the reverse)",
    404: "No such case, or not one the caller may see",
    413: "Too large (body size or batch length)",
    415: "Unsupported media type",
    422: "Invalid events: field-level errors per event in `errors`; nothing was written",
    429: "Rate limit spent; see Retry-After",
    503: "Kafka or the case view is unavailable; retry after Retry-After",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "The scheme to authenticate with: `Bearer realm=\"casehub\"`",
                               "required": True, "schema": {"type": "string"}}},
    429: {"Retry-After": {**RETRY_AFTER, "required": True}, **RATE_LIMIT_HEADERS},
    503: {"Retry-After": {**RETRY_AFTER, "required": True}},
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses: RFC 9457 problem documents, with their headers."""
    found: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"description": _DESCRIBED[status], "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}}
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        found[status] = entry
    return found


def rate_limited_success(description: str, **entry: Any) -> dict[str, Any]:
    """A success response of a partner route: it carries the RateLimit-* headers."""
    return {"description": description, "headers": RATE_LIMIT_HEADERS, **entry}


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestInvalid(f"the body is {declared} bytes; at most {limit}", status=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestInvalid(f"the body is larger than {limit} bytes", status=413)
        chunks.append(chunk)
    return b"".join(chunks)
