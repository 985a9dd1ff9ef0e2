"""GET /v1/stream: the caller's outbound topic as server-sent events, resumable with Last-Event-ID."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from casehub.connectors.gateway.auth import Caller, caller
from casehub.connectors.gateway.case_reads import record_streamed
from casehub.connectors.gateway.openapi import stream_response
from casehub.connectors.gateway.routes.common import RATE_LIMIT_HEADERS, errors
from casehub.connectors.gateway.sse import OPENED_EVENT, OutboundStream
from casehub.connectors.gateway.state import gateway_of
from casehub.core import topics

routes = APIRouter(tags=["stream"])


@routes.get(
    "/v1/stream",
    summary="Follow the caller's deliveries (server-sent events)",
    description=(
        "Every event the hub delivers to the caller (its outbound topic, already projected to its disclosure "
        "level), as a structured CloudEvent in each SSE `data`, with the event type as the SSE `event`. "
        f"The first SSE event is `{OPENED_EVENT}`, giving the starting position. Each SSE `id` is the stream "
        "position `<partition>:<offset>` (one pair per partition of the topic, comma-separated); reconnect "
        "with it as `Last-Event-ID` to resume right after it."
    ),
    operation_id="streamDeliveries",
    response_class=EventSourceResponse,
    responses={200: {**stream_response(), "headers": RATE_LIMIT_HEADERS}, **errors(400, 401, 403, 429, 503)},
)
async def stream(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", max_length=2000, description="The id of the last event received, e.g. 0:41"),
    ] = None,
    start: Annotated[
        Literal["earliest", "latest"],
        Query(description="Without Last-Event-ID: from the oldest retained delivery, or only new ones"),
    ] = "latest",
    limit: Annotated[int | None, Query(ge=1, le=100_000, description="Close the stream after this many events")] = None,
) -> EventSourceResponse:
    hub = gateway_of(request)
    topic = topics.outbound(who.org)
    outbound = OutboundStream(
        hub.settings, topic, await hub.writer.partitions(topic), last_event_id=last_event_id, start=start,
        before_sending=partial(record_streamed, hub, hub.registry.partners[who.org]),
    )
    await outbound.open()

    async def body() -> AsyncIterator[ServerSentEvent]:
        hub.metrics.streams.inc()
        try:
            async for event in outbound.events(limit=limit):
                yield event
        finally:
            hub.metrics.streams.dec()
            await outbound.close()

    return EventSourceResponse(
        body(),
        ping=hub.settings.gateway_keepalive_seconds,
        headers={"Cache-Control": "no-cache"},
    )
