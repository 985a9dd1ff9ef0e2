"""Domain rules a JSON Schema can say, added to the partner event schemas of the OpenAPI document.

The event models describe the Avro contract, where most fields are optional; the gateway refuses more than
that (``casehub.schemas.validation``). What a schema can express is put into it here, so a generated client or
a fuzzer sees it: id formats, a location that names a place, the case id each event type needs. What it
cannot (check digits, codes that exist in the DOPA register, times not in the future, consent) stays in the
422 answer's ``errors``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from casehub.core.topics import ORG_ID

FORMAT_PATTERNS = {
    "th_citizen_id": "^[0-9]{13}$",
    "dopa_tambon": "^[0-9]{6}$",
    "org_id": ORG_ID.pattern,
}
PLACE_FIELDS = ("tambon_code", "address_text", "postal_code")
CASE_ID = {"type": "string", "minLength": 1,
           "description": "The hub's case id (CASE-yyyymmdd-…), or the caller's own case reference (case-v1-…)"}


def _strings(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The string branches of a property schema (itself, or the non-null members of its anyOf)."""
    if schema.get("type") == "string":
        yield schema
    for member in schema.get("anyOf", []):
        if member.get("type") == "string":
            yield member


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A nullable property schema made to require a value (the description and extensions are kept)."""
    members = [m for m in schema.get("anyOf", []) if m.get("type") != "null"]
    if len(members) != 1:
        return schema
    kept = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
    return {**kept, **members[0]}


def _patterns(definitions: dict[str, Any]) -> None:
    for schema in definitions.values():
        for prop in schema.get("properties", {}).values():
            pattern = FORMAT_PATTERNS.get(prop.get("x-casehub-format", ""))
            if pattern:
                for branch in _strings(prop):
                    branch["pattern"] = pattern
        postal = schema.get("properties", {}).get("postal_code")
        if postal is not None:
            for branch in _strings(postal):
                branch["pattern"] = "^[0-9]{5}$"


def _location(definitions: dict[str, Any]) -> None:
    location = definitions.get("Location")
    if location is None:
        return
    # one of the three, with a value: `location: {}`, nulls or only hub-filled fields are refused by the gateway.
    # Said with `not` (no place field has a value) rather than anyOf, which generators turn into a union of
    # three models, each losing the others' properties.
    location["minProperties"] = 1
    location["not"] = {
        "description": "none of tambon_code, address_text, postal_code has a value",
        "properties": {name: {"type": "null"} for name in PLACE_FIELDS},
    }


def _case_ids(definitions: dict[str, Any], event_models: dict[str, str]) -> None:
    for event_type, name in event_models.items():
        schema = definitions[name]
        properties = schema.get("properties", {})
        if "case_id" not in properties:
            continue
        if event_type == "case.reported":
            properties["case_id"] = {"type": "null", "default": None,
                                     "description": "Always null on case.reported: the hub assigns the case id"}
            continue
        properties["case_id"] = {**CASE_ID, "description": properties["case_id"].get("description", CASE_ID["description"])}
        schema["required"] = sorted({*schema.get("required", []), "case_id"})


def _required_by_type(definitions: dict[str, Any], event_models: dict[str, str]) -> None:
    triaged = event_models.get("case.triaged")
    if triaged is None:
        return
    schema = definitions[triaged]
    if "risk_level" in schema.get("properties", {}):
        schema["properties"]["risk_level"] = _non_null(schema["properties"]["risk_level"])
        schema["required"] = sorted({*schema.get("required", []), "risk_level"})


def apply(definitions: dict[str, Any], event_models: dict[str, str]) -> None:
    """Tighten ``definitions`` (component schemas) in place; ``event_models`` maps event type → schema name."""
    _patterns(definitions)
    _location(definitions)
    _case_ids(definitions, event_models)
    _required_by_type(definitions, event_models)
