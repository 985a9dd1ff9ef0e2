"""Payload schemas of the AsyncAPI documents: each event type's self-contained Avro schema, and the JSON records."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from casehub.schemas.loader import schema_version
from casehub.schemas.publish import published_text

AVRO_SCHEMA_FORMAT = "application/vnd.apache.avro;version=1.9.0"
AVRO_CONTENT_TYPE = "application/avro"
JSON_CONTENT_TYPE = "application/json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"


def avro_schema(event_type: str) -> dict[str, Any]:
    """The published, self-contained Avro schema of the current version of ``event_type``.

    It is the file the gateway serves at the record's ``ce_dataschema`` (``casehub/schemas/published``): every named
    type is defined where it is first used, so any Avro library (and AsyncAPI's, avsc) reads it on its own. The
    disclosure markings (``disclose``, ``pii``) stay: Avro ignores them, and they tell a partner which fields reach
    which level.
    """
    document: dict[str, Any] = json.loads(published_text(event_type, schema_version(event_type)))
    return document


def schema_name(event_type: str) -> str:
    """The components.schemas key of a type's current schema, e.g. ``case.reported.v3``."""
    return f"{event_type}.v{schema_version(event_type)}"


def avro_payloads(event_types: Iterable[str]) -> dict[str, dict[str, Any]]:
    """components.schemas entries: one AsyncAPI multi-format schema (Avro 1.9) per event type."""
    return {
        schema_name(event_type): {"schemaFormat": AVRO_SCHEMA_FORMAT, "schema": avro_schema(event_type)}
        for event_type in event_types
    }


def structured_cloudevent(event_types: Iterable[str]) -> dict[str, Any]:
    """A CloudEvent in structured mode: one JSON object per record, the event's fields in ``data``."""
    return {
        "type": "object",
        "description": "One CloudEvent as JSON (structured mode, for partners with simple tools). The hub reads it as "
        "it reads a binary-mode record: the same validation, the same (source, id) rule for retries.",
        "required": ["specversion", "id", "source", "type", "data"],
        "properties": {
            "specversion": {"type": "string", "const": "1.0"},
            "id": {"type": "string", "minLength": 1, "description": "Unique per source; a retry reuses it."},
            "source": {"type": "string", "description": "Ignored: the source is the topic the record arrived on."},
            "type": {"type": "string", "enum": list(event_types)},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "description": "The case id (absent on a new case.reported)."},
            "datacontenttype": {"type": "string", "const": JSON_CONTENT_TYPE},
            "dataschema": {
                "type": "string",
                "description": "Optional; when present it must name the event's type: the URL of the JSON Schema of "
                "data, <hub URL>/v1/schemas/<type>/v<N>/json-schema.",
            },
            "data": {
                "type": "object",
                "description": "The event's fields as JSON: the JSON form of the Avro schema of its type (RFC 3339 "
                "times, ISO dates, enum symbols), described by GET /v1/schemas/<type>/v<N>/json-schema.",
            },
        },
    }


def aggregate_cell() -> dict[str, Any]:
    """A ``stats.aggregates`` value: new cases of one tambon, issue category and month (casehub.streams.aggregates)."""
    code = {"type": "string", "pattern": r"^\d+$"}
    return {
        "type": "object",
        "required": ["tambon_code", "amphoe_code", "province_code", "issue_category", "period", "count", "suppressed"],
        "properties": {
            "tambon_code": {**code, "description": "DOPA tambon code (6 digits)."},
            "amphoe_code": {**code, "description": "DOPA amphoe code (4 digits)."},
            "province_code": {**code, "description": "DOPA province code (2 digits)."},
            "issue_category": {"type": "string"},
            "period": {"type": "string", "pattern": r"^\d{4}-\d{2}$", "description": "The month, yyyy-mm."},
            "count": {"type": ["integer", "null"], "minimum": 0, "description": "null when suppressed."},
            "suppressed": {"type": "boolean", "description": "A count under 5 is never published: it could point "
                           "at a person."},
        },
    }


def case_state() -> dict[str, Any]:
    """A ``cases.state`` value."""
    return {
        "type": "object",
        "description": "The current state of one case as JSON (casehub.streams.state.CaseState): owner, assignee, "
        "status, tambon, risk level, deadlines, referrals and consents. Compacted: the latest record of a key is the "
        "case now. For the hub's services and operators only; partners read a case with GET /v1/cases/{case_id}.",
    }


def audit_record() -> dict[str, Any]:
    """A ``hub.audit`` value."""
    return {
        "type": "object",
        "description": "One JSON record per disclosure (who received which event at which level), refusal, case "
        "read, replay and re-drive: the PDPA record of accountability.",
    }


def any_record(purpose: str) -> dict[str, Any]:
    """The value of a hub topic whose records are not events (``purpose`` from the topic plan)."""
    return {"description": f"Records of the hub's own services: {purpose}."}


def dead_letter_value() -> dict[str, Any]:
    """A ``hub.dlq`` value: whatever the failed record held."""
    return {
        "description": "The failed record's value, byte for byte (Avro, JSON, or bytes that were neither); its key "
        "and headers are the original ones too, with the hub.error.* headers added.",
    }
