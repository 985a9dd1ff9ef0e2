"""The gateway's FastAPI app: its parts started in the lifespan, routes, problem answers, metrics, OpenAPI."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casehub.connectors.gateway import problems
from casehub.connectors.gateway.case_view import CasesView
from casehub.connectors.gateway.keys import KeyStore
from casehub.connectors.gateway.openapi import component_schemas
from casehub.connectors.gateway.producer import EventWriter
from casehub.connectors.gateway.ratelimit import RateLimiter
from casehub.connectors.gateway.routes import asyncapi, cases, events, ops, schemas, stream, uploads
from casehub.connectors.gateway.state import Gateway
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.registry import Registry, load_registry
from casehub.registry.watch import RegistryWatch

log = get_logger(__name__)
API_VERSION = "1.0.0"
EVENT_LOOP = "asyncio"
"""uvicorn's loop for the gateway: asyncio's, not uvloop (uvicorn's own pick once installed, for the worker).

Under uvloop one shutdown in a test-suite run spent 30 s stopping the Kafka clients (2026-12-07), past the stop a
deployment waits for."""


def operation_id(route: APIRoute) -> str:
    """A stable operation id for a route that does not set one: its function's name in camelCase."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


class RateLimitHeaders:
    """ASGI middleware adding the partner's RateLimit-* headers (set by the auth dependency) to its answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_quota(message: Message) -> None:
            quota = scope.get("state", {}).get("quota")
            if message["type"] == "http.response.start" and quota is not None:
                headers = MutableHeaders(scope=message)
                for name, value in quota.headers().items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_quota)


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
    # parameters that fail validation are answered 400 with a Problem, never FastAPI's 422 shape
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
        generate_unique_id_function=operation_id,
    )
    app.state.gateway = hub
    problems.install(app)
    app.include_router(events.router(settings.gateway_max_batch))
    app.include_router(cases.routes)
    app.include_router(stream.routes)
    app.include_router(uploads.router(settings.gateway_max_upload_bytes))
    app.include_router(ops.routes)
    app.include_router(schemas.routes)
    app.include_router(asyncapi.routes)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(RequestMetrics, hub=hub)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
