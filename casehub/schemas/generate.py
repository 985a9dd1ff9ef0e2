"""Generate ``_generated.py``, the pydantic models of every event, from the .avsc files (run after a schema change).

Run ``python -m casehub.schemas.generate`` (or ``casehub schemas generate``, which also writes the published
schemas, ``casehub.schemas.publish``); tests check the committed files equal a fresh rendering, so neither the
models nor the published schemas drift from the sources.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from casehub.schemas.loader import AVSC_DIR, ENVELOPE, EVENT_TYPES, raw_schema, read_avsc, schema_version, shared_types

GENERATED = Path(__file__).parent / "_generated.py"
MARKING_KEYS = ("pii", "sensitivity", "format", "disclose")
_INT32 = (-(2**31), 2**31 - 1)
_SCALARS = {"string": "str", "boolean": "bool", "int": "int", "long": "int", "double": "float", "float": "float"}
_LOGICAL = {"timestamp-millis": "AwareDatetime", "date": "date"}


def json_schema_key(marking: str) -> str:
    """The JSON Schema keyword a marking becomes; ``format`` is a standard keyword and ``disclose`` is the hub's
    policy rather than a fact about the value, so both are namespaced."""
    return f"x-casehub-{marking}" if marking in ("format", "disclose") else marking


def class_name(full_name: str) -> str:
    """``casehub.Location`` → ``Location``."""
    return full_name.rsplit(".", 1)[-1]


def event_class_name(event_type: str) -> str:
    """``referral.requested`` → ``ReferralRequested``, the record name in the .avsc."""
    return str(raw_schema(event_type)["name"])


class _Renderer:
    """Walks the schemas once, collecting enums (as Literal aliases) and records (as classes) in definition order."""

    def __init__(self) -> None:
        self.enums: dict[str, list[str]] = {}
        self.enum_docs: dict[str, str] = {}
        self.records: dict[str, str] = {}

    def annotation(self, avro_type: Any) -> str:
        if isinstance(avro_type, list):
            branches = [b for b in avro_type if b != "null"]
            if len(branches) != 1:
                raise ValueError(f"only [null, T] unions are supported, got {avro_type}")
            inner = self.annotation(branches[0])
            return f"{inner} | None" if "null" in avro_type else inner
        if isinstance(avro_type, str):
            if avro_type in _SCALARS:
                return _SCALARS[avro_type]
            full = avro_type if "." in avro_type else f"casehub.{avro_type}"
            if full in self.enums or full in self.records:
                return class_name(full)
            return self.annotation(shared_types()[full])
        kind = avro_type["type"]
        if "logicalType" in avro_type:
            return _LOGICAL[avro_type["logicalType"]]
        if kind == "enum":
            full = f"{avro_type.get('namespace', 'casehub')}.{avro_type['name']}"
            self.enums.setdefault(full, list(avro_type["symbols"]))
            self.enum_docs.setdefault(full, avro_type.get("doc", ""))
            return class_name(full)
        if kind == "record":
            full = f"{avro_type.get('namespace', 'casehub')}.{avro_type['name']}"
            if full not in self.records:
                self.records[full] = ""  # reserve the name before the fields, for recursion
                self.records[full] = self.record_class(class_name(full), full, avro_type, "AvroRecord", {})
            return class_name(full)
        if kind == "array":
            return f"list[{self.annotation(avro_type['items'])}]"
        if kind == "map":
            return f"dict[str, {self.annotation(avro_type['values'])}]"
        if isinstance(kind, (dict, list, str)):
            return self.annotation(kind)
        raise ValueError(f"unsupported Avro type {avro_type}")

    def field_line(self, field: dict[str, Any], override: dict[str, str]) -> str:
        name = field["name"]
        if name in override:
            return f"    {name}: {override[name]}"
        annotation = self.annotation(field["type"])
        args: list[str] = []
        if "default" in field:
            default = field["default"]
            args.append("default_factory=list" if default == [] else f"default={default!r}")
        if field["type"] == "int" or field["type"] == ["null", "int"]:
            args += [f"ge={_INT32[0]}", f"le={_INT32[1]}"]
        args.append(f"description={field.get('doc', '')!r}")
        markings = {json_schema_key(k): field[k] for k in MARKING_KEYS if k in field}
        if markings:
            args.append(f"json_schema_extra={markings!r}")
        return f"    {name}: {annotation} = Field({', '.join(args)})"

    def record_class(self, name: str, avro_name: str, schema: dict[str, Any], base: str, override: dict[str, str],
                     skip: int = 0, extra: str = "") -> str:
        """One model class; ``override`` replaces a field's annotation, ``skip`` leaves out inherited fields."""
        lines = [f"class {name}({base}):", f'    """{schema.get("doc", "")}"""', ""]
        lines.append(f'    AVRO_NAME: ClassVar[str] = "{avro_name}"')
        if extra:
            lines.append(extra)
        lines += [self.field_line(f, override) for f in schema["fields"][skip:]]
        lines += [
            f"    {name}: {annotation}" for name, annotation in override.items()
            if name not in {f["name"] for f in schema["fields"][skip:]}
        ]
        return "\n".join(lines)


def render_models() -> str:
    """The source text of ``_generated.py`` for the current .avsc files."""
    renderer = _Renderer()
    for full in shared_types():
        renderer.annotation(full)
    envelope = read_avsc(AVSC_DIR / f"{ENVELOPE}.avsc")
    base = renderer.record_class("CaseEvent", "", envelope, "AvroRecord", {}, extra='    EVENT_TYPE: ClassVar[str] = ""')
    events: list[str] = []
    envelope_size = len(envelope["fields"])
    envelope_doc = {field["name"]: field["doc"] for field in envelope["fields"]}
    for event_type in EVENT_TYPES:
        schema = raw_schema(event_type)
        version = schema_version(event_type)
        override = {
            "type": f'Literal["{event_type}"] = Field(default="{event_type}", description={envelope_doc["type"]!r})',
            "schema_version": f"int = Field(default={version}, ge={_INT32[0]}, le={_INT32[1]}, "
            f"description={envelope_doc['schema_version']!r})",
        }
        events.append(renderer.record_class(
            schema["name"], f"casehub.{schema['name']}", schema, "CaseEvent", override, skip=envelope_size,
            extra=f'    EVENT_TYPE: ClassVar[str] = "{event_type}"\n    SCHEMA_VERSION: ClassVar[int] = {version}',
        ))
    enum_lines = []
    for full, symbols in renderer.enums.items():
        enum_lines.append(f"{class_name(full)} = Literal[{', '.join(repr(s) for s in symbols)}]")
        enum_lines.append(f'"""{renderer.enum_docs[full]}"""')
        enum_lines.append("")
    registry = ["EVENT_MODELS: dict[str, type[CaseEvent]] = {"]
    registry += [f'    "{t}": {event_class_name(t)},' for t in EVENT_TYPES]
    registry.append("}")
    header = [
        '"""Pydantic models of every case event, GENERATED from casehub/schemas/avsc by casehub.schemas.generate: do not edit."""',
        "",
        "from __future__ import annotations",
        "",
        "from datetime import date",
        "from typing import ClassVar, Literal",
        "",
        "from pydantic import AwareDatetime, Field",
        "",
        "from casehub.schemas.base import AvroRecord",
        "",
    ]
    body = "\n\n\n".join([*renderer.records.values(), base, *events])
    return "\n".join(header) + "\n" + "\n".join(enum_lines) + "\n" + body + "\n\n\n" + "\n".join(registry) + "\n"


def main() -> None:
    """Write ``_generated.py`` next to this module, and the published schemas (``published/``)."""
    from casehub.schemas.publish import write_published  # publish renders JSON Schemas with this module's names

    GENERATED.write_text(render_models(), encoding="utf-8")
    write_published()


if __name__ == "__main__":
    main()
