"""The parts of the OpenAPI document FastAPI cannot infer: event request bodies, problems, the SSE stream.

Each operation documents one request media type: generated clients (openapi-python-client) cannot tell
several JSON media types of one operation apart. The CloudEvents media types accepted beside it are named
in the operation's description.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from casehub.connectors.gateway import openapi_rules
from casehub.connectors.gateway.models import Problem, UploadProblem
from casehub.connectors.gateway.sse import OPENED_EVENT
from casehub.schemas import HUB_WRITTEN
from casehub.schemas.models import EVENT_MODELS

REF = "#/components/schemas/{model}"
STRUCTURED = "StructuredCloudEvent"
PARTNER_EVENT = "PartnerEvent"


@cache
def _partner_event_schema() -> dict[str, Any]:
    models = tuple(model for event_type, model in EVENT_MODELS.items() if event_type not in HUB_WRITTEN)
    union = Annotated[Union[models], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007 - a runtime tuple
    schema: dict[str, Any] = TypeAdapter(union).json_schema(ref_template=REF)
    definitions: dict[str, Any] = schema.pop("$defs")
    for model in models:
        entry = definitions[model.__name__]
        # the gateway dispatches on type, so a partner must send it (the models default it)
        entry["required"] = sorted({*entry.get("required", []), "type"})
    openapi_rules.apply(definitions, {t: m.__name__ for t, m in EVENT_MODELS.items() if t not in HUB_WRITTEN})
    definitions[PARTNER_EVENT] = {
        **schema,
        "description": "An event body as the contract defines it (plain mode); hub-written types are refused.",
    }
    definitions[STRUCTURED] = {
        "type": "object",
        "description": (
            "A structured-mode CloudEvent (JSON) whose data is the event body. `source` is ignored: "
            "the hub records the authenticated partner as the source."
        ),
        "required": ["specversion", "id", "source", "type", "data"],
        "properties": {
            "specversion": {"type": "string", "const": "1.0"},
            "id": {"type": "string", "minLength": 1},
            "source": {"type": "string", "minLength": 1},
            "type": {"type": "string", "minLength": 1},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string"},
            "dataschema": {"type": "string"},
            "datacontenttype": {"type": "string", "const": "application/json"},
            "data": {"$ref": REF.format(model=PARTNER_EVENT)},
        },
    }
    return definitions


def _problem_schemas() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model in (Problem, UploadProblem):
        schema = model.model_json_schema(ref_template=REF)
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found


def _stream_schemas() -> dict[str, Any]:
    return {
        "StreamOpened": {
            "type": "object",
            "description": f"The data of the first SSE event (`event: {OPENED_EVENT}`): where the stream starts.",
            "required": ["topic", "position"],
            "properties": {
                "topic": {"type": "string", "description": "The caller's outbound topic"},
                "position": {"type": "string", "description": "The stream position, as in the SSE id"},
            },
        },
        "DeliveredEvent": {
            "type": "object",
            "description": (
                "The data of every other SSE event: a delivery as a structured CloudEvent (JSON), projected to the "
                "caller's disclosure level. `data` is the event body; `dataschema` names the schema describing it."
            ),
            "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "data"],
            "properties": {
                "specversion": {"type": "string", "const": "1.0"},
                "id": {"type": "string"},
                "source": {"type": "string", "description": "Who sent the event, e.g. /partners/hotline-1300"},
                "type": {"type": "string", "description": "The event type, also the SSE `event`"},
                "time": {"type": "string", "format": "date-time"},
                "subject": {"type": "string", "description": "The case id (or the caller's case reference)"},
                "dataschema": {"type": ["string", "null"]},
                "datacontenttype": {"type": "string", "const": "application/json"},
                "casehubdisclosure": {"type": "string", "enum": ["full", "pseudonymised", "aggregate"]},
                "data": {"type": "object", "description": "The event body at the caller's disclosure level"},
            },
        },
        "ServerSentEvent": {
            "type": "object",
            "description": (
                "One event of the text/event-stream (the lines `id:`, `event:`, `data:`); comment lines (`: ping - <time>`) "
                "keep idle connections open and carry nothing."
            ),
            "required": ["id", "event", "data"],
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9]+:-?[0-9]+(,[0-9]+:-?[0-9]+)*$",
                       "description": "The stream position `<partition>:<offset>,...`; send it back as Last-Event-ID"},
                "event": {"type": "string", "description": f"`{OPENED_EVENT}` first, then the event type of each delivery"},
                "data": {
                    "description": "JSON, one line",
                    "oneOf": [{"$ref": REF.format(model="StreamOpened")}, {"$ref": REF.format(model="DeliveredEvent")}],
                },
            },
        },
    }


def component_schemas() -> dict[str, Any]:
    """Schemas to add to ``components.schemas``: partner events, their union, CloudEvent wrapper, problems, SSE."""
    return {**_partner_event_schema(), **_problem_schemas(), **_stream_schemas()}


def _one_event() -> dict[str, Any]:
    return {"oneOf": [{"$ref": REF.format(model=PARTNER_EVENT)}, {"$ref": REF.format(model=STRUCTURED)}]}


def event_request_body() -> dict[str, Any]:
    """The requestBody of publishEvent: one event, the plain body or a structured CloudEvent."""
    return {
        "required": True,
        "description": (
            "The plain event body, or a structured CloudEvent. In binary mode (the `ce-*` headers) the body is the "
            "CloudEvent's data: the event body. Also accepted: `application/cloudevents+json` (one structured CloudEvent)."
        ),
        "content": {"application/json": {"schema": _one_event()}},
    }


def batch_request_body(max_batch: int) -> dict[str, Any]:
    """The requestBody of publishBatch: 1 to ``max_batch`` events (more is answered 413)."""
    return {
        "required": True,
        "description": (
            f"1 to {max_batch} events, each the plain event body or a structured CloudEvent. Also accepted: "
            "`application/cloudevents-batch+json` (an array of structured CloudEvents)."
        ),
        "content": {
            "application/json": {"schema": {"type": "array", "minItems": 1, "maxItems": max_batch, "items": _one_event()}}
        },
    }


def _binary_header(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": f"ce-{name}", "in": "header", "required": False, "description": description,
            "schema": {"type": "string", **schema}}


BINARY_MODE_PARAMETERS = [
    _binary_header("specversion", "Binary mode (the CloudEvents HTTP binding): `1.0`; with it the body is the event's "
                   "data and the other ce-* headers are its attributes", enum=["1.0"]),
    _binary_header("id", "Binary mode: the event id (required with ce-specversion)", minLength=1),
    _binary_header("source", "Binary mode: required, and ignored: the hub records the authenticated partner", minLength=1),
    _binary_header("type", "Binary mode: the event type, e.g. case.reported (required with ce-specversion)", minLength=1),
    _binary_header("time", "Binary mode: when it happened (RFC 3339 date-time); the data's occurred_at if absent there"),
    _binary_header("subject", "Binary mode: the case id (fills the data's case_id)"),
    _binary_header("dataschema", "Binary mode: the schema of the data"),
]


def stream_response() -> dict[str, Any]:
    """The 200 answer of the SSE stream: text/event-stream, each event described by ServerSentEvent."""
    example = (
        f'id: 0:41\nevent: {OPENED_EVENT}\ndata: {{"topic":"partner.lao-840502.outbound","position":"0:41"}}\n\n'
        'id: 0:42\nevent: case.triaged\ndata: {"specversion":"1.0","id":"…","source":"/partners/hotline-1300",'
        '"type":"case.triaged","subject":"CASE-20261128-A1B2C3D4E5","casehubdisclosure":"full","data":{…}}\n\n'
    )
    return {
        "description": (
            "An endless text/event-stream: one SSE event per delivery (see the ServerSentEvent schema; "
            "`x-itemSchema` is OpenAPI 3.2's itemSchema for it)."
        ),
        "content": {
            "text/event-stream": {
                "schema": {"type": "string", "description": "Server-sent events, each a ServerSentEvent"},
                "x-itemSchema": {"$ref": REF.format(model="ServerSentEvent")},
                "example": example,
            }
        },
    }


def csv_request_body(max_bytes: int) -> dict[str, Any]:
    """The requestBody of POST /v1/uploads/csv: the file as text/csv, or a multipart form field ``file``."""
    return {
        "required": True,
        "description": f"A UTF-8 CSV (BOM allowed) with a header row, Thai or English column names; at most {max_bytes} bytes.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
