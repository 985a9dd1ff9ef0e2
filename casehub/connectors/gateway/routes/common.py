"""What every route shares: documented error answers and a size-bounded body reader."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from casehub.connectors.gateway.exceptions import RequestInvalid
from casehub.connectors.gateway.models import ErrorDocument


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses, all answered with an ErrorDocument."""
    described = {
        400: "The request cannot be read (not JSON, bad header or parameter)",
        401: "Missing, unknown or revoked API key",
        404: "No such case, or not one the caller may see",
        413: "Too large (body size or batch length)",
        415: "Unsupported media type",
        422: "Invalid events or parameters: field-level errors per item; nothing was written",
        429: "Rate limit spent; see Retry-After",
        503: "Kafka or the case view is unavailable; retry (see Retry-After)",
    }
    return {status: {"model": ErrorDocument, "description": described[status]} for status in statuses}


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
