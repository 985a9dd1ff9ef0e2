"""POST /v1/events and /v1/events/batch: validate every event, then write all to the partner's inbound topic (acks=all)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from casehub.connectors.gateway.auth import Caller, caller
from casehub.connectors.gateway.exceptions import EventsRejected
from casehub.connectors.gateway.models import AcceptedEvent, SubmissionResult
from casehub.connectors.gateway.openapi import BINARY_MODE_PARAMETERS, batch_request_body, event_request_body
from casehub.connectors.gateway.routes.common import errors, rate_limited_success, read_body
from casehub.connectors.gateway.state import gateway_of
from casehub.connectors.gateway.submission import (
    ItemProblem,
    Prepared,
    Shape,
    binary_event,
    is_binary_mode,
    prepare,
    read_items,
)
from casehub.core import topics
from casehub.core.logging import get_logger

log = get_logger(__name__)


def router(max_batch: int) -> APIRouter:
    """The events routes (their OpenAPI request bodies name the configured batch limit)."""
    routes = APIRouter(tags=["events"])
    accepted: dict[int | str, dict[str, Any]] = {202: rate_limited_success("Every event was written (acks=all), or had been already")}

    @routes.post(
        "/v1/events",
        operation_id="publishEvent",
        status_code=202,
        response_model=SubmissionResult,
        summary="Publish one event",
        description=(
            "One event in any of the CloudEvents HTTP binding's modes: the plain event body or a structured "
            "CloudEvent as `application/json` (or `application/cloudevents+json`), or binary mode (the `ce-*` "
            "headers, with the event body as the JSON data). Validates it (schema and domain rules); if it is "
            "invalid, answers 422 listing every problem (index, field, message) and writes nothing. Otherwise "
            "writes it to the caller's inbound topic (Avro, CloudEvents binary mode, acks=all) before answering "
            "202. The source is the authenticated partner, whatever the event claims. Retrying with the same "
            "event id is harmless. A JSON array (or `application/cloudevents-batch+json`) sent here is taken as "
            "a batch, as publishBatch does."
        ),
        responses={**accepted, **errors(400, 401, 403, 413, 415, 422, 429, 503)},
        openapi_extra={"requestBody": event_request_body(), "parameters": BINARY_MODE_PARAMETERS},
    )
    async def publish_event(request: Request, who: Annotated[Caller, Depends(caller)]) -> SubmissionResult:
        return await _publish(request, who, "either")

    @routes.post(
        "/v1/events/batch",
        operation_id="publishBatch",
        status_code=202,
        response_model=SubmissionResult,
        summary="Publish a batch of events",
        description=(
            f"A JSON array of at most {max_batch} events, each the plain event body or a structured CloudEvent "
            "(`application/json`), or `application/cloudevents-batch+json` (structured CloudEvents only). "
            "Every event is validated first; if any is invalid, answers 422 listing the problems of each "
            "(index, field, message) and writes none. Otherwise writes all of them, in order, before answering 202. "
            f"More than {max_batch} events: 413."
        ),
        responses={**accepted, **errors(400, 401, 403, 413, 415, 422, 429, 503)},
        openapi_extra={"requestBody": batch_request_body(max_batch)},
    )
    async def publish_batch(request: Request, who: Annotated[Caller, Depends(caller)]) -> SubmissionResult:
        return await _publish(request, who, "batch")

    return routes


async def _publish(request: Request, who: Caller, shape: Shape) -> SubmissionResult:
    hub = gateway_of(request)
    body = await read_body(request, hub.settings.gateway_max_upload_bytes)
    content_type = request.headers.get("content-type")
    binary = shape != "batch" and is_binary_mode(request.headers, content_type)
    items = read_items(body, content_type, max_batch=hub.settings.gateway_max_batch, shape="one" if binary else shape)
    if binary:  # one CloudEvent in binary mode: its attributes are the ce-* headers, the body its data
        converted = binary_event(request.headers, items[0])
        if isinstance(converted, list):
            hub.metrics.events.labels(who.org, "rejected").inc()
            raise EventsRejected(converted, total=1)
        items = [converted]
    ready, problems = prepare(items, org=who.org, content_type=content_type, schema_base=hub.settings.public_base_url())
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
