"""One POST of one event to a partner's URL, and what its answer means: delivered, retry later, or give up."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import httpx

from casehub.connectors.webhooks.backoff import parse_retry_after

Verdict = Literal["delivered", "retry", "permanent"]
RETRIED_STATUSES = frozenset({408, 429})
BODY_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
USER_AGENT = "casehub-webhooks/1"


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one POST: HTTP status or the error, latency, the receiver's Retry-After, the verdict."""

    verdict: Verdict
    status: int | None
    error: str | None
    latency_ms: float
    retry_after: float | None = None


def verdict_of(status: int) -> Verdict:
    """2xx delivered; 408, 429 and 5xx retried; anything else (3xx, other 4xx) will not get better by retrying."""
    if 200 <= status < 300:
        return "delivered"
    if status in RETRIED_STATUSES or status >= 500:
        return "retry"
    return "permanent"


async def post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
    """POST ``body`` to ``url``; never raises for network or HTTP trouble, which becomes the Attempt's verdict."""
    started = time.perf_counter()
    try:
        response = await client.post(
            url, content=body, headers={"content-type": BODY_CONTENT_TYPE, "user-agent": USER_AGENT, **headers}
        )
    except httpx.TransportError as exc:  # timeouts, refused connections, resets: the receiver may recover
        return Attempt("retry", None, f"{type(exc).__name__}: {exc}"[:500], _since(started))
    except httpx.HTTPError as exc:  # a URL httpx cannot use: retrying would fail the same way
        return Attempt("permanent", None, f"{type(exc).__name__}: {exc}"[:500], _since(started))
    latency = _since(started)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    verdict = verdict_of(response.status_code)
    error = None if verdict == "delivered" else f"HTTP {response.status_code} {response.reason_phrase}".strip()
    return Attempt(verdict, response.status_code, error, latency, retry_after)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
