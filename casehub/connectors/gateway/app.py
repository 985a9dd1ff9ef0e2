"""The gateway's FastAPI app: its parts started in the lifespan, routes, error documents, metrics, OpenAPI."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casehub.connectors.gateway.case_view import CasesView
from casehub.connectors.gateway.exceptions import error_code, error_headers, http_status
from casehub.connectors.gateway.keys import KeyStore
from casehub.connectors.gateway.models import ErrorDocument, ItemError
from casehub.connectors.gateway.openapi import component_schemas
from casehub.connectors.gateway.producer import EventWriter
from casehub.connectors.gateway.ratelimit import RateLimiter
from casehub.connectors.gateway.routes import cases, events, ops, stream, uploads
from casehub.connectors.gateway.state import Gateway
from casehub.core.errors import HubError
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.registry import Registry, load_registry
from casehub.registry.watch import RegistryWatch

log = get_logger(__name__)
API_VERSION = "1.0.0"


def _document(status: int, body: ErrorDocument, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


async def _hub_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HubError)
    status = http_status(exc)
    if status >= 500 and status != 503:
        log.error("request failed", path=request.url.path, error=str(exc))
    problems = getattr(exc, "problems", [])
    body = ErrorDocument(
        error=error_code(exc),
        message=exc.message,
        hint=exc.hint,
        errors=[ItemError(index=p.index, field=p.field, message=p.message) for p in problems],
    )
    return _document(status, body, error_headers(exc))


async def _invalid_parameters(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = [
        ItemError(index=0, field=".".join(str(part) for part in e.get("loc", ())), message=str(e.get("msg", "")))
        for e in exc.errors()
    ]
    body = ErrorDocument(error="bad_request", message="a header or parameter is invalid", errors=items)
    return _document(400, body)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return _document(exc.status_code, ErrorDocument(error=code, message=str(exc.detail)), dict(exc.headers or {}))


class RequestMetrics:
    """ASGI middleware counting answers by method, route template and status (streams included)."""

    def __init__(self, app: ASGIApp, hub: Gateway) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, recording)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.hub.metrics.requests.labels(scope["method"], template, str(status["code"])).inc()
            log.debug("request", method=scope["method"], route=template, status=status["code"],
                      seconds=round(time.perf_counter() - started, 4))


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
    )
    document.setdefault("components", {}).setdefault("schemas", {}).update(component_schemas())
    # parameters that fail validation are answered 400 with an ErrorDocument, never FastAPI's 422 shape
    for path in document.get("paths", {}).values():
        for operation in path.values():
            response = operation.get("responses", {}).get("422", {})
            if "HTTPValidationError" in str(response):
                del operation["responses"]["422"]
    for unused in ("HTTPValidationError", "ValidationError"):
        document["components"]["schemas"].pop(unused, None)
    app.openapi_schema = document
    return document


async def _follow_registry(hub: Gateway, watch: RegistryWatch) -> None:
    """Swap in the registry file's new partners as they are written: a new partner's keys work without a restart."""
    while True:
        await asyncio.sleep(hub.settings.registry_refresh_seconds)
        found = watch.check()
        if found is not None:
            log.warning("registry reloaded", partners=len(found.partners), **watch.differences(found))
            hub.registry = watch.registry = found


def create_app(settings: Settings, *, registry: Registry | None = None, keys: KeyStore | None = None) -> FastAPI:
    """The gateway app; Kafka clients start with the app's lifespan (uvicorn runs it)."""
    writer = EventWriter(settings)
    hub = Gateway(
        settings=settings,
        registry=registry or load_registry(settings),
        keys=keys or KeyStore.for_settings(settings),
        writer=writer,
        cases=CasesView(settings, writer.partitions),
        limiter=RateLimiter(settings.gateway_rate_per_minute),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.writer.start()
        await hub.cases.start()
        log.info("gateway started", partners=len(hub.registry), bootstrap=settings.bootstrap_servers())
        follow = asyncio.create_task(_follow_registry(hub, RegistryWatch(settings.registry_path, hub.registry)))
        try:
            yield
        finally:
            follow.cancel()
            await hub.cases.stop()
            await hub.writer.stop()
            log.info("gateway stopped")

    app = FastAPI(
        title="casehub gateway",
        version=API_VERSION,
        description=(
            "HTTP edge of casehub for partners without Kafka: publish case events, read a case's state, follow "
            "deliveries as server-sent events, upload spreadsheets. Authenticate with `Authorization: Bearer <API key>`."
        ),
        lifespan=lifespan,
    )
    app.state.gateway = hub
    app.add_exception_handler(HubError, _hub_error)
    app.add_exception_handler(RequestValidationError, _invalid_parameters)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(events.router(settings.gateway_max_batch))
    app.include_router(cases.routes)
    app.include_router(stream.routes)
    app.include_router(uploads.router(settings.gateway_max_upload_bytes))
    app.include_router(ops.routes)
    app.add_middleware(RequestMetrics, hub=hub)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
