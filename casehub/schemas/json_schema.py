"""The JSON Schema (2020-12) of an event's JSON form (structured mode, SSE, webhooks), derived from its Avro schema.

The JSON form is the model's JSON dump: timestamps as RFC 3339 strings with an offset, dates as ISO dates, enums as
their symbols, ``null`` for an absent optional value. Each named Avro type becomes one ``$defs`` entry, referenced
wherever Avro refers to it by name; docs become ``description``; the hub's markings keep the names the models'
JSON Schema gives them (``pii``, ``sensitivity``, ``x-casehub-format``, ``x-casehub-disclose``).
"""

from __future__ import annotations

from typing import Any

from casehub.schemas.generate import MARKING_KEYS, json_schema_key

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_AVRO_KEYS = frozenset({"type", "name", "namespace", "doc", "fields", "symbols", "items", "values", "default",
                        "logicalType", "aliases", "order", "size", "precision", "scale"})
_SCALARS: dict[str, dict[str, Any]] = {
    "null": {"type": "null"},
    "boolean": {"type": "boolean"},
    "int": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
    "long": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "string": {"type": "string"},
    "bytes": {"type": "string", "contentEncoding": "base64"},
}
_LOGICAL: dict[str, dict[str, Any]] = {
    "timestamp-millis": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
}


def _extensions(node: dict[str, Any]) -> dict[str, Any]:
    """A named type's own attributes Avro does not define (``casehub.version``, an enum's ``sensitivity`` map)."""
    return {f"x-casehub-{key.removeprefix('casehub.').replace('_', '-')}": value
            for key, value in node.items() if key not in _AVRO_KEYS}


class _Converter:
    """Walks one Avro schema; named types are defined where Avro defines them and referenced afterwards."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.defs: dict[str, dict[str, Any]] = {}

    def full_name(self, name: str, namespace: str) -> str:
        return name if "." in name else f"{namespace}.{name}"

    def convert(self, node: Any, namespace: str) -> dict[str, Any]:
        if isinstance(node, str):
            if node in _SCALARS:
                return dict(_SCALARS[node])
            return {"$ref": f"#/$defs/{self.full_name(node, namespace)}"}
        if isinstance(node, list):
            return {"anyOf": [self.convert(branch, namespace) for branch in node]}
        kind = node["type"]
        if node.get("logicalType") in _LOGICAL:
            return dict(_LOGICAL[node["logicalType"]])
        if kind in ("record", "enum"):
            full = self.full_name(node["name"], node.get("namespace", namespace))
            inner_namespace = full.rsplit(".", 1)[0]
            self.defs[full] = {}  # reserved first: a record may refer to itself
            self.defs[full] = self.record(node, inner_namespace) if kind == "record" else self.enum(node)
            return {"$ref": f"#/$defs/{full}"}
        if kind == "array":
            return {"type": "array", "items": self.convert(node["items"], namespace)}
        if kind == "map":
            return {"type": "object", "additionalProperties": self.convert(node["values"], namespace)}
        if isinstance(kind, (str, list, dict)):
            return self.convert(kind, namespace)
        raise ValueError(f"unsupported Avro type {node!r}")

    def enum(self, node: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "enum": list(node["symbols"])}
        if node.get("doc"):
            schema["description"] = node["doc"]
        return {**schema, **_extensions(node)}

    def record(self, node: dict[str, Any], namespace: str) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for field in node["fields"]:
            schema = self.convert(field["type"], namespace)
            if field.get("doc"):
                schema["description"] = field["doc"]
            if "default" in field:
                schema["default"] = field["default"]
            schema.update({json_schema_key(key): field[key] for key in MARKING_KEYS if key in field})
            properties[field["name"]] = schema
        schema = {"type": "object"}
        if node.get("doc"):
            schema["description"] = node["doc"]
        return {
            **schema,
            "properties": properties,
            "required": [field["name"] for field in node["fields"] if "default" not in field],
            "additionalProperties": False,
            **_extensions(node),
        }


def json_schema(avro: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of the JSON form of records of the (self-contained) Avro record schema ``avro``.

    The root is the event's own record; every named type under it is in ``$defs`` under its full Avro name.
    """
    namespace = avro.get("namespace", "")
    full = avro["name"] if "." in avro["name"] else f"{namespace}.{avro['name']}"
    converter = _Converter(namespace)
    converter.convert(avro, namespace)
    root = converter.defs.pop(full)
    return {"$schema": DIALECT, "title": full, **root, "$defs": converter.defs}
