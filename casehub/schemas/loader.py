"""The schema registry: compose each event's .avsc with the envelope and shared named types, versions and ids."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any, cast

import fastavro
from fastavro.schema import SchemaParseException

from casehub.schemas.exceptions import SchemaChanged, UnknownEventType

AVSC_DIR = Path(__file__).parent / "avsc"
HISTORY_DIR = AVSC_DIR / "history"
NAMESPACE = "casehub"
ENVELOPE = "casehub.Envelope"

EVENT_TYPES: tuple[str, ...] = (
    "case.reported",
    "case.triaged",
    "case.assigned",
    "case.transferred",
    "case.assessed",
    "case.plan_approved",
    "referral.requested",
    "referral.accepted",
    "referral.rejected",
    "referral.revoked",
    "service.delivered",
    "case.followup",
    "case.closed",
    "case.reopened",
    "consent.recorded",
    "consent.withdrawn",
    "case.linked",
    "case.escalated",
)
HUB_WRITTEN: frozenset[str] = frozenset({"case.linked", "case.escalated"})
"""Event types only the hub writes; a partner publishing one is refused."""

_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def read_avsc(path: Path) -> dict[str, Any]:
    """One .avsc file as JSON."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def check_event_type(event_type: str) -> None:
    """Raise UnknownEventType unless ``event_type`` is in the catalogue."""
    if event_type not in EVENT_TYPES:
        raise UnknownEventType(
            f"unknown event type {event_type!r}", hint=f"known types: {', '.join(EVENT_TYPES)}"
        )


@cache
def shared_types() -> dict[str, dict[str, Any]]:
    """The shared named types (enums and records such as ``casehub.Location``) by full name, from ``casehub.*.avsc``."""
    types: dict[str, dict[str, Any]] = {}
    for path in sorted(AVSC_DIR.glob(f"{NAMESPACE}.*.avsc")):
        if path.stem == ENVELOPE:
            continue  # not a type: its fields are copied into every event
        schema = read_avsc(path)
        full_name = f"{schema.get('namespace', NAMESPACE)}.{schema['name']}"
        if path.stem != full_name:
            raise UnknownEventType(f"{path.name} defines {full_name}; a shared type's file is named after it")
        types[full_name] = schema
    return types


def _full_name(schema: dict[str, Any]) -> str:
    name = str(schema["name"])
    return name if "." in name else f"{schema.get('namespace', NAMESPACE)}.{name}"


def _inline(node: Any, defined: set[str]) -> Any:
    """Replace references to shared types by their definition, the first time each is used (Avro's rule)."""
    if isinstance(node, str):
        if node in _PRIMITIVES:
            return node
        full = node if "." in node else f"{NAMESPACE}.{node}"
        if full in defined:
            return full
        shared = shared_types().get(full)
        if shared is None:
            raise UnknownEventType(f"schema refers to unknown type {node!r}")
        return _inline(copy.deepcopy(shared), defined)
    if isinstance(node, list):
        return [_inline(branch, defined) for branch in node]
    if isinstance(node, dict):
        kind = node.get("type")
        if kind in ("record", "enum", "fixed"):
            defined.add(_full_name(node))
        if kind == "record":
            node["fields"] = [{**field, "type": _inline(field["type"], defined)} for field in node["fields"]]
        elif kind == "array":
            node["items"] = _inline(node["items"], defined)
        elif kind == "map":
            node["values"] = _inline(node["values"], defined)
        elif isinstance(kind, (dict, list)):
            node["type"] = _inline(kind, defined)
        return node
    return node


@cache
def _composed(event_type: str) -> dict[str, Any]:
    check_event_type(event_type)
    body = read_avsc(AVSC_DIR / f"{event_type}.avsc")
    envelope_name = body.pop("casehub.envelope", ENVELOPE)
    envelope = read_avsc(AVSC_DIR / f"{envelope_name}.avsc")
    body["fields"] = copy.deepcopy(envelope["fields"]) + body["fields"]
    return dict(_inline(body, set()))


def raw_schema(event_type: str) -> dict[str, Any]:
    """The self-contained JSON schema of ``event_type``: envelope fields first, shared types inlined, markings kept."""
    return copy.deepcopy(_composed(event_type))


@cache
def load_schema(event_type: str) -> dict[str, Any]:
    """The parsed fastavro schema of the current version of ``event_type`` (the reader schema)."""
    return cast(dict[str, Any], fastavro.parse_schema(raw_schema(event_type)))


def schema_version(event_type: str) -> int:
    """The current version of ``event_type``'s schema."""
    return int(_composed(event_type)["casehub.version"])


def history_versions(event_type: str) -> list[int]:
    """The frozen versions of ``event_type`` kept in ``avsc/history/<type>/v<N>.avsc``, ascending."""
    check_event_type(event_type)
    folder = HISTORY_DIR / event_type
    return sorted(int(p.stem[1:]) for p in folder.glob("v*.avsc"))


def history_schema(event_type: str, version: int) -> dict[str, Any]:
    """The frozen, self-contained schema of ``event_type`` version ``version``."""
    check_event_type(event_type)
    path = HISTORY_DIR / event_type / f"v{version}.avsc"
    if not path.exists():
        raise UnknownEventType(f"{event_type} has no schema version {version}", hint=f"known: {history_versions(event_type)}")
    return read_avsc(path)


@cache
def writer_schema(event_type: str, version: int) -> dict[str, Any]:
    """The parsed schema a sender wrote ``event_type`` with at ``version`` (current or frozen)."""
    if version == schema_version(event_type):
        return load_schema(event_type)
    try:
        parsed = cast(dict[str, Any], fastavro.parse_schema(history_schema(event_type, version)))
    except SchemaParseException as exc:
        raise UnknownEventType(f"frozen schema {event_type} v{version} does not parse: {exc}") from exc
    return parsed


ANNOTATIONS: tuple[str, ...] = ("doc", "pii", "generalise", "sensitivity", "disclose")
"""Attributes Avro ignores that say nothing about the wire: docs and the hub's disclosure markings."""


def without_docs(node: Any) -> Any:
    """A schema without its docs and disclosure markings: both can change without a new version (the wire is the same).

    ``format`` stays: it is what validation accepts, so changing it changes the contract.
    """
    if isinstance(node, dict):
        schema_node = "type" in node
        return {key: without_docs(value) for key, value in node.items() if not (schema_node and key in ANNOTATIONS)}
    if isinstance(node, list):
        return [without_docs(item) for item in node]
    return node


def freeze(event_type: str) -> Path:
    """Write the current schema of ``event_type`` to its history file; returns the path.

    Refuses to overwrite a frozen version with a different schema (docs aside): bump ``casehub.version`` first.
    """
    path = HISTORY_DIR / event_type / f"v{schema_version(event_type)}.avsc"
    if path.exists() and without_docs(read_avsc(path)) != without_docs(raw_schema(event_type)):
        raise SchemaChanged(
            f"{event_type} changed but is still v{schema_version(event_type)}",
            hint=f"raise casehub.version in {event_type}.avsc, then freeze again",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw_schema(event_type), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
