"""Personal-data markings read from the .avsc files: which field paths are direct/quasi identifiers, free text, sensitive."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from casehub.schemas.loader import raw_schema

PiiKind = Literal["direct", "quasi", "free_text"]
PII_KINDS: tuple[str, ...] = ("direct", "quasi", "free_text")
GENERALISATIONS: tuple[str, ...] = ("birth_year", "amphoe", "drop", "keep")
MARKING_ATTRIBUTES: tuple[str, ...] = ("pii", "generalise", "sensitivity", "format")


@dataclass(frozen=True, slots=True)
class FieldMarking:
    """The markings of one field. ``path`` is dotted (``subject.citizen_id``); ``[]`` marks array items.

    ``pii``: direct identifier, quasi identifier or free text (None = not personal data).
    ``generalise``: for quasi identifiers, what pseudonymised disclosure keeps (birth_year, amphoe, drop, keep).
    ``sensitivity``: the PDPA s26 kind of data the field holds, if any. ``format``: org_id, dopa_tambon, th_citizen_id.
    """

    path: str
    pii: PiiKind | None
    generalise: str | None
    sensitivity: str | None
    format: str | None


def _record_of(avro_type: Any) -> dict[str, Any] | None:
    """The record schema a field holds directly or as the non-null branch of a union."""
    if isinstance(avro_type, list):
        for branch in avro_type:
            found = _record_of(branch)
            if found:
                return found
        return None
    if isinstance(avro_type, dict) and avro_type.get("type") == "record":
        return avro_type
    return None


def _walk(record: dict[str, Any], prefix: str, named: dict[str, dict[str, Any]]) -> list[FieldMarking]:
    named[f"{record.get('namespace', 'casehub')}.{record['name']}"] = record
    found: list[FieldMarking] = []
    for field in record["fields"]:
        path = f"{prefix}{field['name']}"
        if any(key in field for key in MARKING_ATTRIBUTES):
            found.append(
                FieldMarking(path, field.get("pii"), field.get("generalise"), field.get("sensitivity"), field.get("format"))
            )
        avro_type = field["type"]
        # a named record used a second time is a reference by name: look its definition up
        if isinstance(avro_type, str) and avro_type in named:
            avro_type = named[avro_type]
        elif isinstance(avro_type, list):
            avro_type = [named.get(b, b) if isinstance(b, str) else b for b in avro_type]
        inner = _record_of(avro_type)
        if inner is not None:
            found += _walk(inner, f"{path}.", named)
        elif isinstance(avro_type, dict) and avro_type.get("type") == "array":
            item = _record_of(named.get(avro_type["items"], avro_type["items"]) if isinstance(avro_type["items"], str) else avro_type["items"])
            if item is not None:
                found += _walk(item, f"{path}[].", named)
    return found


@cache
def _markings(event_type: str) -> tuple[FieldMarking, ...]:
    return tuple(_walk(raw_schema(event_type), "", {}))


def field_markings(event_type: str) -> list[FieldMarking]:
    """Every marked field of ``event_type``, in schema order: what the projector walks to minimise a disclosure."""
    return list(_markings(event_type))


def pii_paths(event_type: str, kind: PiiKind) -> list[str]:
    """The field paths of ``event_type`` marked ``pii == kind``, e.g. every direct identifier."""
    return [m.path for m in _markings(event_type) if m.pii == kind]


def sensitive_paths(event_type: str) -> dict[str, str]:
    """Field path → PDPA s26 sensitivity tag, for the fields of ``event_type`` that hold sensitive data."""
    return {m.path: m.sensitivity for m in _markings(event_type) if m.sensitivity}
