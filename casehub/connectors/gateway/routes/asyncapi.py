"""GET /v1/asyncapi: the AsyncAPI 3.0 document of the calling partner's Kafka channels (its API key says who)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from casehub.connectors.asyncapi.base import context, render
from casehub.connectors.asyncapi.exceptions import AsyncApiUnavailable
from casehub.connectors.asyncapi.partner import partner_document
from casehub.connectors.gateway.auth import Caller, caller
from casehub.connectors.gateway.routes.common import errors, rate_limited_success
from casehub.connectors.gateway.state import Gateway, gateway_of

MEDIA_TYPES = {"json": "application/json", "yaml": "application/yaml"}
routes = APIRouter(tags=["asyncapi"])


def cluster_brokers(hub: Gateway) -> int:
    """How many brokers the gateway's producer knows of (the replicas the document states follow from it)."""
    found = len(hub.writer.producer.client.cluster.brokers())
    if not found:
        raise AsyncApiUnavailable("the gateway has no metadata of the Kafka cluster yet", hint="retry in a few seconds")
    return found


@routes.get(
    "/v1/asyncapi",
    operation_id="getAsyncApi",
    summary="The AsyncAPI 3.0 document of your Kafka channels",
    description=(
        "What a Kafka client of the calling partner needs, as AsyncAPI 3.0.0: its inbound topic (send) and "
        "outbound topic (receive), the messages of every event type it may send or receive with their Avro "
        "schemas, CloudEvents headers and keys, the topics' partitions and retention, the consumer group rule, and "
        "the Kafka server with its security scheme (SCRAM-SHA-512 over TLS, or a client certificate). Nothing of "
        "any other partner. `casehub partners asyncapi ORG` writes the same document."
    ),
    response_class=Response,
    responses={
        200: rate_limited_success("The AsyncAPI 3.0.0 document (JSON, or YAML with ?format=yaml)", content={
            media_type: {"schema": {"type": "object", "description": "An AsyncAPI 3.0.0 document"}}
            for media_type in MEDIA_TYPES.values()
        }),
        **errors(400, 401, 403, 429, 503),
    },
)
async def get_asyncapi(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    fmt: Annotated[Literal["json", "yaml"], Query(alias="format", description="json (default) or yaml")] = "json",
) -> Response:
    hub = gateway_of(request)
    brokers = cluster_brokers(hub)

    def build() -> str:
        return render(partner_document(context(hub.settings, hub.registry, brokers=brokers), who.org), fmt)

    body = await asyncio.to_thread(build)  # half a megabyte of schemas: off the event loop
    return Response(body, media_type=MEDIA_TYPES[fmt])
