"""The case event contract: Avro schemas (the single source of truth), models, wire codec, domain validation."""

from casehub.schemas.dataschema import avro_schema_url, json_schema_url, parse_dataschema
from casehub.schemas.loader import (
    EVENT_TYPES,
    HUB_WRITTEN,
    load_schema,
    raw_schema,
    schema_version,
)
from casehub.schemas.markings import FieldMarking, field_markings

__all__ = [
    "EVENT_TYPES",
    "HUB_WRITTEN",
    "FieldMarking",
    "field_markings",
    "load_schema",
    "avro_schema_url",
    "json_schema_url",
    "parse_dataschema",
    "raw_schema",
    "schema_version",
]
