"""AsyncAPI message objects: one per event type and topic kind (what a partner sends, what it receives, the canonical
stream), and the hub's own records (dead letters, states, audit, aggregates)."""

from __future__ import annotations

import re
from typing import Any, Literal

from casehub.connectors.asyncapi import headers, payloads
from casehub.schemas.dataschema import avro_schema_url
from casehub.schemas.loader import raw_schema
from casehub.schemas.publish import published_versions
from casehub.streams.keys import CASE_ID

KAFKA_BINDING_VERSION = "0.5.0"
CASE_REFERENCE = r"^case-v\d+-[a-z2-7]+$"
Direction = Literal["inbound", "outbound", "canonical"]
Level = Literal["full", "pseudonymised"]


def ecma_pattern(pattern: str) -> str:
    """A Python regex as JSON Schema (ECMA-262) reads it: named groups ``(?P<name>`` become plain groups."""
    return re.sub(r"\(\?P<\w+>", "(", pattern)


def case_id_schema(description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": ecma_pattern(CASE_ID.pattern), "description": description,
            "examples": ["CASE-20261129-C6Z63T47TE"]}


def case_reference_schema(description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": CASE_REFERENCE, "description": description}


def case_key(levels: tuple[Level, ...], *, what: str) -> dict[str, Any]:
    """The schema of a record's key (or ``ce_subject``): the hub's case id, a pseudonymised partner's reference, or
    either when ``levels`` holds both."""
    full = case_id_schema(f"{what}: the hub's case id. A case's records share a partition, so its history stays in "
                          "order.")
    pseudonymised = case_reference_schema(f"{what}: at the pseudonymised level, the partner's own reference of the "
                                          "case (case-v<key version>-<…>), keyed to that partner alone; send it back "
                                          "to act on the case.")
    chosen = [schema for level, schema in (("full", full), ("pseudonymised", pseudonymised)) if level in levels]
    return chosen[0] if len(chosen) == 1 else {"oneOf": chosen}


def _kafka_binding(key: dict[str, Any]) -> dict[str, Any]:
    return {"kafka": {"key": key, "schemaIdLocation": "header", "schemaLookupStrategy": "ce_dataschema header: the "
                      "URL of the writer's Avro schema", "bindingVersion": KAFKA_BINDING_VERSION}}


def _title(event_type: str) -> str:
    return event_type.replace(".", " ").replace("_", " ").capitalize()


def message_name(direction: Direction, event_type: str) -> str:
    """components.messages key, e.g. ``outbound.case.reported``."""
    return f"{direction}.{event_type}"


def event_message(event_type: str, direction: Direction, *, levels: tuple[Level, ...], schema_base: str,
                  org: str | None = None) -> dict[str, Any]:
    """The message of ``event_type`` on a partner's inbound topic, its outbound topic, or cases.events."""
    doc = str(raw_schema(event_type).get("doc", ""))
    dataschema = avro_schema_url(schema_base, event_type)
    if direction == "inbound":
        new_report = event_type == "case.reported"
        subject: dict[str, Any] = (
            {"type": "string", "description": "Absent: the hub assigns the case id of a new report."} if new_report
            else case_key(levels, what="The case this event is about (the payload's case_id)"))
        key = ({"type": "null", "description": "No key: a new report has no case id yet."} if new_report
               else case_key(levels, what="The payload's case_id"))
        header_schema = headers.partner_headers(event_type, org=org, versions=published_versions(event_type),
                                                dataschema=dataschema, subject=subject)
    elif direction == "outbound":
        key = case_key(levels, what="The case")
        header_schema = headers.delivered_headers(event_type, org=org, levels=levels, dataschema=dataschema,
                                                  subject=case_key(levels, what="The case"))
    else:
        key = case_key(("full",), what="The case")
        header_schema = headers.canonical_headers(event_type, dataschema=dataschema, subject=key)
    summary = doc.split(". ")[0].rstrip(".") + "."
    message: dict[str, Any] = {
        "name": event_type,
        "title": _title(event_type),
        "summary": summary,
        "contentType": payloads.AVRO_CONTENT_TYPE,
        "headers": header_schema,
        "payload": {"$ref": f"#/components/schemas/{payloads.schema_name(event_type)}"},
        "bindings": _kafka_binding(key),
    }
    if doc != summary:
        message["description"] = doc
    if not (direction == "inbound" and event_type == "case.reported"):
        message["correlationId"] = {"location": "$message.header#/ce_subject",
                                    "description": "The case: every event of a case carries it."}
    return message


def structured_message(event_types: list[str], *, levels: tuple[Level, ...]) -> dict[str, Any]:
    """Any event a partner sends as one JSON CloudEvent (structured mode)."""
    return {
        "name": "cloudevent",
        "title": "Any event as a JSON CloudEvent",
        "summary": "Structured mode: the whole CloudEvent as JSON in the value, for partners whose tools cannot "
        "write Avro.",
        "contentType": payloads.STRUCTURED_CONTENT_TYPE,
        "headers": headers.structured_headers(),
        "payload": payloads.structured_cloudevent(event_types),
        "bindings": _kafka_binding(case_key(levels, what="The case the event is about (no key on a new "
                                            "case.reported)")),
    }


def dead_letter_message() -> dict[str, Any]:
    return {
        "name": "dead-letter",
        "title": "Dead letter",
        "summary": "A record a stage could not process, unchanged, with hub.error.* context headers.",
        "headers": headers.dead_letter_headers(),
        "payload": payloads.dead_letter_value(),
        "bindings": _kafka_binding({"description": "The failed record's key, unchanged (may be empty)."}),
    }


def redrive_marker_message() -> dict[str, Any]:
    return {
        "name": "redrive-marker",
        "title": "Re-drive marker",
        "summary": "Written with each re-drive (`casehub dlq redrive`), in the same transaction: this dead letter "
        "went back to its topic.",
        "headers": headers.redrive_marker_headers(),
        "payload": {"type": "string", "maxLength": 0, "description": "Empty."},
        "bindings": _kafka_binding({"type": "string", "pattern": r"^redrive:\d+:\d+$"}),
    }


def case_state_message() -> dict[str, Any]:
    return {
        "name": "case-state",
        "title": "Case state",
        "summary": "The current state of one case; a later record of the same key replaces it.",
        "contentType": payloads.JSON_CONTENT_TYPE,
        "payload": payloads.case_state(),
        "bindings": _kafka_binding(case_id_schema("The case id.")),
    }


def audit_message() -> dict[str, Any]:
    return {
        "name": "audit-record",
        "title": "Audit record",
        "summary": "Who received, was refused or read which event or case, at which level; replays and re-drives.",
        "contentType": payloads.JSON_CONTENT_TYPE,
        "headers": headers.json_headers(),
        "payload": payloads.audit_record(),
        "bindings": _kafka_binding({"type": "string", "description": "The case id, or the replay or re-drive id."}),
    }


def aggregate_message() -> dict[str, Any]:
    return {
        "name": "aggregate-cell",
        "title": "Aggregate cell",
        "summary": "New cases of one tambon, issue category and month; counts under 5 are suppressed.",
        "contentType": payloads.JSON_CONTENT_TYPE,
        "headers": headers.json_headers(),
        "payload": payloads.aggregate_cell(),
        "bindings": _kafka_binding({"type": "string", "pattern": r"^\d{6}\|[a-z_]+\|\d{4}-\d{2}$",
                                    "description": "<tambon code>|<issue category>|<yyyy-mm>; the latest record of "
                                    "a key is the cell's count now."}),
    }


def hub_record_message(topic: str, purpose: str) -> dict[str, Any]:
    """A hub topic this module has no closer description of (the plan's purpose says what it holds)."""
    return {"name": topic, "title": topic, "summary": purpose[:1].upper() + purpose[1:] + ".",
            "payload": payloads.any_record(purpose)}
