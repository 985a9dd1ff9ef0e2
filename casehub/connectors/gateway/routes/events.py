"""POST /v1/events: validate every event, then write all of them to the partner's inbound topic (acks=all)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from casehub.connectors.gateway.auth import Caller, caller
from casehub.connectors.gateway.exceptions import EventsRejected
from casehub.connectors.gateway.models import AcceptedEvent, SubmissionResult
from casehub.connectors.gateway.openapi import events_request_body
from casehub.connectors.gateway.routes.common import errors, read_body
from casehub.connectors.gateway.state import gateway_of
from casehub.connectors.gateway.submission import ItemProblem, Prepared, prepare, read_items
from casehub.core import topics
from casehub.core.logging import get_logger

log = get_logger(__name__)


def router(max_batch: int) -> APIRouter:
    """The events route (its OpenAPI request body names the configured batch limit)."""
    routes = APIRouter(tags=["events"])

    @routes.post(
        "/v1/events",
        status_code=202,
        response_model=SubmissionResult,
        summary="Publish one event or a batch",
        description=(
            "Validates every event (schema and domain rules); if any is invalid, answers 422 listing the errors of "
            "each (index, field, message) and writes nothing. Otherwise writes each event to the caller's inbound "
            "topic (Avro, CloudEvents binary mode, acks=all) before answering 202. The source of every event is "
            "the authenticated partner. Retrying with the same event ids is harmless."
        ),
        responses=errors(400, 401, 413, 415, 422, 429, 503),
        openapi_extra={"requestBody": events_request_body(max_batch)},
    )
    async def post_events(request: Request, who: Annotated[Caller, Depends(caller)]) -> SubmissionResult:
        hub = gateway_of(request)
        body = await read_body(request, hub.settings.gateway_max_upload_bytes)
        content_type = request.headers.get("content-type")
        items = read_items(body, content_type, max_batch=hub.settings.gateway_max_batch)
        ready, problems = prepare(items, org=who.org, content_type=content_type)
        fresh: list[Prepared] = []
        repeats: set[int] = set()
        for prepared in ready:
            kind = hub.recent.classify(who.org, prepared)
            if kind == "conflict":
                problems.append(ItemProblem(prepared.index, "id", "was already submitted with different content; a new event needs a new id"))
            elif kind == "repeat":
                repeats.add(prepared.index)
            else:
                fresh.append(prepared)
        if problems:
            hub.metrics.events.labels(who.org, "rejected").inc(len(items))
            log.info("events rejected", partner=who.org, events=len(items), problems=len(problems))
            raise EventsRejected(sorted(problems, key=lambda p: p.index), total=len(items))
        topic = topics.inbound(who.org)
        started = time.perf_counter()
        written = await hub.writer.write(topic, [p.record for p in fresh]) if fresh else []
        if fresh:
            hub.metrics.produce_seconds.observe(time.perf_counter() - started)
        hub.recent.remember(who.org, fresh)
        where = {p.index: w for p, w in zip(fresh, written, strict=True)}
        hub.metrics.events.labels(who.org, "accepted").inc(len(fresh))
        hub.metrics.events.labels(who.org, "already_submitted").inc(len(repeats))
        for prepared in fresh:
            log.info("event accepted", partner=who.org, event_id=prepared.event.id, topic=topic)
        return SubmissionResult(
            source=who.source,
            topic=topic,
            accepted=len(fresh),
            already_submitted=len(repeats),
            events=[
                AcceptedEvent(
                    index=p.index,
                    id=p.event.id,
                    type=p.event.type,
                    status="already_submitted" if p.index in repeats else "accepted",
                    partition=where[p.index].partition if p.index in where else None,
                    offset=where[p.index].offset if p.index in where else None,
                )
                for p in ready
            ],
        )

    return routes
