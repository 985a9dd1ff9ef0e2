"""GET /v1/schemas/...: the published contract, the URLs every record's ``ce_dataschema`` names; no key needed.

The schemas are the same for every partner and hold no personal data and nothing about any partner: they are
what a partner (or a tool it uses: a CloudEvents SDK, a schema registry, a validator) must read before it can
decode a record at all, so they are served without a key, like ``/openapi.json``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from casehub.connectors.gateway.exceptions import SchemaNotFound
from casehub.connectors.gateway.routes.common import errors
from casehub.connectors.gateway.state import gateway_of
from casehub.schemas.dataschema import JSON_SCHEMA_SUFFIX, Rendition, avro_schema_url, json_schema_url
from casehub.schemas.exceptions import UnknownEventType
from casehub.schemas.loader import EVENT_TYPES, schema_version
from casehub.schemas.publish import published_text, published_versions

AVRO_MEDIA_TYPE = "application/vnd.apache.avro+json"
JSON_SCHEMA_MEDIA_TYPE = "application/schema+json"
CACHE_CONTROL = "public, max-age=3600"
"""A published version's wire schema never changes; its docs and disclosure markings may, so caches refresh hourly."""

routes = APIRouter(tags=["schemas"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {**errors(404)[404], "description": "No such event type, or no such version of it"}
}


class SchemaVersion(BaseModel):
    """One published version of an event type's schema."""

    version: int
    avro: str = Field(description="URL of the Avro schema: the ce_dataschema of Kafka (binary-mode) records")
    json_schema: str = Field(description="URL of the JSON Schema of the JSON form: the dataschema of SSE, webhooks, "
                                         "structured mode")


class EventSchemas(BaseModel):
    """Every published version of one event type."""

    type: str
    current_version: int = Field(description="The version the hub writes today")
    versions: list[SchemaVersion]


class SchemaIndex(BaseModel):
    """The published schemas of every event type."""

    schemas: list[EventSchemas]


def _version(event_type: str, text: str) -> int:
    if event_type not in EVENT_TYPES or not text.isdigit():
        raise SchemaNotFound(f"no schema {event_type} v{text}", hint="GET /v1/schemas lists every type and version")
    return int(text)


def _answer(request: Request, body: str, media_type: str) -> Response:
    """The document with an ETag; 304 when the client already holds it."""
    etag = '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _published(event_type: str, version: int, rendition: Rendition) -> str:
    try:
        return published_text(event_type, version, rendition)
    except UnknownEventType as exc:
        raise SchemaNotFound(exc.message, hint=exc.hint) from exc


@routes.get(
    "/v1/schemas",
    operation_id="listSchemas",
    response_model=SchemaIndex,
    summary="Every event type's published schemas (no key needed)",
)
async def list_schemas(request: Request) -> SchemaIndex:
    base = gateway_of(request).settings.public_base_url()
    return SchemaIndex(schemas=[
        EventSchemas(type=event_type, current_version=schema_version(event_type), versions=[
            SchemaVersion(version=v, avro=avro_schema_url(base, event_type, v), json_schema=json_schema_url(base, event_type, v))
            for v in published_versions(event_type)
        ])
        for event_type in EVENT_TYPES
    ])


@routes.get(
    "/v1/schemas/{event_type}/v{version}",
    operation_id="getAvroSchema",
    summary="The Avro schema of an event type's version (no key needed)",
    description=(
        "The self-contained Avro schema (every named type defined where it is first used) that Kafka records of "
        "this type and version were written with: the URL is their `ce_dataschema` header. Docs and the hub's "
        "disclosure markings (`disclose`, `pii`, `sensitivity`, `format`) are attributes Avro ignores."
    ),
    response_class=Response,
    responses={200: {"description": "The Avro schema (JSON)", "content": {AVRO_MEDIA_TYPE: {"schema": {"type": "object"}}}},
               304: {"description": "Not modified (If-None-Match)"}, **_NOT_FOUND},
)
async def avro_schema(request: Request, event_type: str, version: str) -> Response:
    return _answer(request, _published(event_type, _version(event_type, version), "avro"), AVRO_MEDIA_TYPE)


@routes.get(
    f"/v1/schemas/{{event_type}}/v{{version}}/{JSON_SCHEMA_SUFFIX}",
    operation_id="getJsonSchema",
    summary="The JSON Schema of an event type's version in JSON (no key needed)",
    description=(
        "JSON Schema 2020-12 of the event as JSON: the `data` of the CloudEvents on `/v1/stream`, in webhooks "
        "and in structured mode, whose `dataschema` is this URL. In structured mode the hub also accepts data "
        "without `id`, `type`, `occurred_at` and `schema_version`, which then come from the CloudEvent's "
        "`id`, `type` and `time` and the current version."
    ),
    response_class=Response,
    responses={200: {"description": "The JSON Schema", "content": {JSON_SCHEMA_MEDIA_TYPE: {"schema": {"type": "object"}}}},
               304: {"description": "Not modified (If-None-Match)"}, **_NOT_FOUND},
)
async def json_schema(request: Request, event_type: str, version: str) -> Response:
    number = _version(event_type, version)
    document: dict[str, Any] = json.loads(_published(event_type, number, JSON_SCHEMA_SUFFIX))
    # the $id is where this deployment serves it, so it is added here rather than written into the package
    url = json_schema_url(gateway_of(request).settings.public_base_url(), event_type, number)
    body = json.dumps({"$schema": document.pop("$schema"), "$id": url, **document}, ensure_ascii=False, indent=2) + "\n"
    return _answer(request, body, JSON_SCHEMA_MEDIA_TYPE)
