"""/healthz (Kafka reachable, case view caught up) and Prometheus /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from casehub.connectors.gateway.metrics import CONTENT_TYPE
from casehub.connectors.gateway.models import Health
from casehub.connectors.gateway.state import gateway_of

routes = APIRouter(tags=["operations"])


@routes.get(
    "/healthz",
    response_model=Health,
    summary="Whether the gateway can reach Kafka",
    responses={503: {"model": Health, "description": "Kafka is unreachable"}},
)
async def healthz(request: Request) -> JSONResponse:
    hub = gateway_of(request)
    kafka = await hub.writer.reachable()
    health = Health(
        status="ok" if kafka else "unavailable",
        kafka=kafka,
        cases_view_ready=hub.cases.ready,
        cases_known=len(hub.cases.cases),
    )
    return JSONResponse(health.model_dump(), status_code=200 if kafka else 503)


@routes.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    hub = gateway_of(request)
    hub.metrics.cases_known.set(len(hub.cases.cases))
    return Response(hub.metrics.render(), media_type=CONTENT_TYPE)
