"""/healthz (Kafka reachable, case view caught up; open to probes) and Prometheus /metrics (operator key only)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from casehub.connectors.gateway.auth import operator
from casehub.connectors.gateway.metrics import CONTENT_TYPE
from casehub.connectors.gateway.models import Health
from casehub.connectors.gateway.routes.common import RETRY_AFTER, errors
from casehub.connectors.gateway.state import gateway_of

routes = APIRouter(tags=["operations"])
RECENT_FAILURE_SECONDS = 30.0
"""A write that failed this recently makes /healthz answer 503, even while metadata requests succeed."""


@routes.get(
    "/healthz",
    operation_id="getHealth",
    response_model=Health,
    summary="Whether the gateway can reach Kafka and its last write was acknowledged",
    responses={503: {"model": Health, "description": "Kafka is unreachable, or the last write failed",
                     "headers": {"Retry-After": {**RETRY_AFTER, "required": True}}}},
)
async def healthz(request: Request) -> JSONResponse:
    hub = gateway_of(request)
    kafka = await hub.writer.reachable(timeout=3.0)
    produced = hub.writer.health
    # reachable is not enough: after a cluster restart metadata answered while every write failed
    failing = produced.ok is False and produced.at is not None and time.time() - produced.at < RECENT_FAILURE_SECONDS
    healthy = kafka and not failing
    health = Health(
        status="ok" if healthy else "unavailable",
        kafka=kafka,
        cases_view_ready=hub.cases.ready,
        cases_known=len(hub.cases.cases),
        last_produce_ok=produced.ok,
        last_produce_error=produced.error,
        producers_replaced=produced.producers_replaced,
    )
    return JSONResponse(health.model_dump(), status_code=200 if healthy else 503,
                        headers=None if healthy else {"Retry-After": "5"})


@routes.get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics (operator key)",
    description=(
        "Prometheus text format: requests, events by partner, produce latency, open streams, and the process "
        "(`process_*`, `python_*`). Partner names are in it, so it answers only an operator key "
        "(`casehub partners key --operator`): 401 without a key, 403 with a partner's."
    ),
    response_class=Response,
    responses={
        200: {"description": "Prometheus text format", "content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}}},
        **errors(401, 403),
    },
)
async def metrics(request: Request, _operator: Annotated[str, Depends(operator)]) -> Response:
    hub = gateway_of(request)
    hub.metrics.cases_known.set(len(hub.cases.cases))
    return Response(hub.metrics.render(), media_type=CONTENT_TYPE)
