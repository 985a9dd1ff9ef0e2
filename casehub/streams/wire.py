"""Binary CloudEvents written from Avro data the pipeline already holds: no pydantic model built only to be dumped.

The pipeline's events are validated once, at decode; their ``to_avro()`` data, and the projections the project
stage walks out of it, are written here as they are. The bytes are those ``codec.encode_binary`` writes for the
same event (tests/streams/test_wire.py holds the two to each other).
"""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import fastavro

from casehub.schemas.codec import AVRO_CONTENT_TYPE, CONTENT_TYPE_HEADER, SPEC_VERSION, WireRecord, rfc3339
from casehub.schemas.dataschema import avro_schema_url
from casehub.schemas.exceptions import EncodeError
from casehub.schemas.loader import load_schema

_CONTENT_TYPE = (CONTENT_TYPE_HEADER, AVRO_CONTENT_TYPE.encode("ascii"))
_SPEC_VERSION = ("ce_specversion", SPEC_VERSION.encode())


@cache
def _dataschema(schema_base: str, event_type: str) -> bytes:
    return avro_schema_url(schema_base, event_type).encode()


def avro_value(event_type: str, data: dict[str, Any]) -> bytes:
    """The Avro body of ``data`` (an event's ``to_avro()`` shape) under the current schema of ``event_type``."""
    buffer = io.BytesIO()
    try:
        fastavro.schemaless_writer(buffer, load_schema(event_type), data)
    except (ValueError, TypeError, OverflowError, AttributeError) as exc:
        raise EncodeError(f"{event_type} {data.get('id')} cannot be written as Avro: {exc}") from exc
    return buffer.getvalue()


def binary_record(data: dict[str, Any], *, source: str, schema_base: str, key: bytes | None = None,
                  extra: list[tuple[str, bytes]] | None = None) -> WireRecord:
    """Binary mode: Avro value, ``ce_*`` headers from the data (``ce_subject`` = its case id), content type, then
    ``extra`` headers. ``key`` defaults to the case id, as ``encode_binary`` keys records."""
    event_type: str = data["type"]
    case_id = data.get("case_id")
    headers = [
        _SPEC_VERSION,
        ("ce_id", data["id"].encode()),
        ("ce_source", source.encode()),
        ("ce_type", event_type.encode()),
        ("ce_time", rfc3339(data["occurred_at"]).encode()),
        ("ce_dataschema", _dataschema(schema_base, event_type)),
    ]
    if case_id:
        headers.append(("ce_subject", case_id.encode()))
    headers.append(_CONTENT_TYPE)
    if extra:
        headers += extra
    if key is None and case_id:
        key = case_id.encode()
    return WireRecord(key, avro_value(event_type, data), headers)
