"""The parts of the OpenAPI document FastAPI cannot infer: event request bodies, built from the event models."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

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


def component_schemas() -> dict[str, Any]:
    """Schemas to add to ``components.schemas``: every partner event type, the union, the CloudEvent wrapper."""
    return dict(_partner_event_schema())


def events_request_body(max_batch: int) -> dict[str, Any]:
    """The requestBody of POST /v1/events: one event or a batch, plain or structured."""
    one = {"oneOf": [{"$ref": REF.format(model=PARTNER_EVENT)}, {"$ref": REF.format(model=STRUCTURED)}]}
    batch = {"type": "array", "minItems": 1, "maxItems": max_batch, "items": one}
    structured = {"$ref": REF.format(model=STRUCTURED)}
    return {
        "required": True,
        "description": (
            f"One event, or a batch (JSON array, at most {max_batch}), each the plain event body or a "
            "structured CloudEvent. All are validated first; if any is invalid, none is written."
        ),
        "content": {
            "application/json": {"schema": {"oneOf": [one, batch]}},
            "application/cloudevents+json": {"schema": structured},
            "application/cloudevents-batch+json": {
                "schema": {"type": "array", "minItems": 1, "maxItems": max_batch, "items": structured}
            },
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
