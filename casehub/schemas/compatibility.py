"""Schema evolution guard: Apache avro's compatibility checker over each event type's frozen versions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from avro.errors import AvroException

from casehub.core.errors import ContractError
from casehub.schemas.loader import (
    EVENT_TYPES,
    history_schema,
    history_versions,
    raw_schema,
    schema_version,
    without_docs,
)


@dataclass(frozen=True, slots=True)
class Compatibility:
    """Whether data written with ``writer`` can be read with ``reader``; ``problems`` are avro's messages."""

    compatible: bool
    problems: tuple[str, ...]


def _parse(schema: dict[str, Any]) -> avro.schema.Schema:
    try:
        return avro.schema.parse(json.dumps(schema))
    except (AvroException, ValueError, TypeError) as exc:
        raise ContractError(f"schema {schema.get('name')!r} is not valid Avro: {exc}") from exc


def can_read(reader: dict[str, Any], writer: dict[str, Any]) -> Compatibility:
    """Apache avro's verdict on reading ``writer`` data with the ``reader`` schema (both JSON schemas)."""
    result = ReaderWriterCompatibilityChecker().get_compatibility(_parse(reader), _parse(writer))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return Compatibility(True, ())
    kinds = ", ".join(sorted({kind.value for kind in result.incompatibilities}))
    detail = ", ".join(sorted(str(m) for m in result.messages))
    # avro reports the root "/" next to the real locations; keep only the specific ones
    where = ", ".join(sorted(result.locations - {"/"} or result.locations))
    return Compatibility(False, (f"{kinds} ({detail}) at {where}",))


def full_compatibility(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Problems with evolving ``old`` into ``new``: backward (new reads old) and forward (old reads new); empty if none."""
    problems: list[str] = []
    backward = can_read(new, old)
    if not backward.compatible:
        problems += [f"backward (new reader, old data): {p}" for p in backward.problems] or ["backward: incompatible"]
    forward = can_read(old, new)
    if not forward.compatible:
        problems += [f"forward (old reader, new data): {p}" for p in forward.problems] or ["forward: incompatible"]
    return problems


def check_event_type(event_type: str) -> list[str]:
    """Every evolution problem of ``event_type``: an unfrozen current schema, or a version pair that breaks readers."""
    versions = history_versions(event_type)
    current = schema_version(event_type)
    if not versions or versions[-1] != current:
        return [f"{event_type}: current version v{current} is not frozen in avsc/history (run `casehub schemas freeze`)"]
    if without_docs(history_schema(event_type, current)) != without_docs(raw_schema(event_type)):
        return [f"{event_type}: the schema changed but is still v{current}; bump casehub.version and freeze it"]
    problems: list[str] = []
    for old, new in zip(versions, versions[1:], strict=False):
        problems += [f"{event_type} v{old}→v{new}: {p}" for p in full_compatibility(
            history_schema(event_type, old), history_schema(event_type, new))]
    return problems


def check_all() -> list[str]:
    """Evolution problems of every event type; empty when the contract may ship."""
    return [problem for event_type in EVENT_TYPES for problem in check_event_type(event_type)]
