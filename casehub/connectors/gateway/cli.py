"""``casehub gateway``: run the HTTP gateway on uvicorn."""

from __future__ import annotations

import click

from casehub.core.logging import configure_logging
from casehub.core.settings import Settings


@click.command("gateway")
@click.option("--host", default=None, help="Interface to listen on [CASEHUB_GATEWAY_HOST, default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [CASEHUB_GATEWAY_PORT, default 8080].")
@click.option("--rate-per-minute", type=int, default=None, help="Requests per partner a minute [CASEHUB_GATEWAY_RATE_PER_MINUTE].")
def gateway(host: str | None, port: int | None, rate_per_minute: int | None) -> None:
    """Run the HTTP gateway: POST /v1/events, GET /v1/cases/{id}, GET /v1/stream, POST /v1/uploads/csv, /healthz, /metrics.

    OpenAPI document at /openapi.json, interactive docs at /docs. Partners authenticate with keys issued by
    `casehub partners key ORG`.
    """
    import uvicorn

    from casehub.connectors.gateway.app import EVENT_LOOP, create_app

    settings = Settings()
    overrides = {
        name: value
        for name, value in (("gateway_host", host), ("gateway_port", port), ("gateway_rate_per_minute", rate_per_minute))
        if value is not None
    }
    settings = settings.model_copy(update=overrides)
    configure_logging(settings.log_level)
    app = create_app(settings)
    click.echo(f"casehub gateway on http://{settings.gateway_host}:{settings.gateway_port} (docs at /docs)", err=True)
    uvicorn.run(app, host=settings.gateway_host, port=settings.gateway_port, log_config=None, access_log=False,
                loop=EVENT_LOOP)
