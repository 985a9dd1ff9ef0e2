"""The case event contract: Avro schemas (the single source of truth), models, wire codec, domain validation."""

from casehub.schemas.loader import (
    EVENT_TYPES,
    HUB_WRITTEN,
    load_schema,
    parse_schema_id,
    raw_schema,
    schema_id,
    schema_version,
)
from casehub.schemas.markings import FieldMarking, field_markings

__all__ = [
    "EVENT_TYPES",
    "HUB_WRITTEN",
    "FieldMarking",
    "field_markings",
    "load_schema",
    "parse_schema_id",
    "raw_schema",
    "schema_id",
    "schema_version",
]
