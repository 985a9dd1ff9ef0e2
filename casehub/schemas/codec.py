"""The wire format: Avro binary with CloudEvents binary-mode headers, and structured-mode JSON CloudEvents."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import fastavro

from casehub.schemas.dataschema import avro_schema_url, json_schema_url, parse_dataschema
from casehub.schemas.exceptions import DecodeError, EncodeError, EventInvalid, UnknownEventType
from casehub.schemas.loader import load_schema, writer_schema
from casehub.schemas.models import CaseEvent, parse_event

SPEC_VERSION = "1.0"
AVRO_CONTENT_TYPE = "application/avro"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
JSON_CONTENT_TYPE = "application/json"
CONTENT_TYPE_HEADER = "content-type"
_REQUIRED_BINARY = ("specversion", "id", "source", "type", "dataschema")
_REQUIRED_STRUCTURED = ("specversion", "id", "source", "type", "data")

Headers = list[tuple[str, bytes]]
Mode = Literal["binary", "structured"]


@dataclass(frozen=True, slots=True)
class WireRecord:
    """One Kafka record: ``key`` is the case id (None before the hub assigns one), header values are bytes."""

    key: bytes | None
    value: bytes
    headers: Headers = field(default_factory=list)

    def header(self, name: str) -> bytes | None:
        """The value of header ``name`` (case-insensitive), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded record: the event, the CloudEvents ``source`` the record claims, the mode, every ce attribute.

    ``source`` is what the sender wrote; the hub trusts the inbound topic instead (topics.event_source).
    """

    event: CaseEvent
    source: str
    mode: Mode
    attributes: dict[str, str]


def rfc3339(moment: datetime) -> str:
    """``2026-11-28T03:15:00.000Z``: UTC with milliseconds, the precision Avro keeps."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _attributes(event: CaseEvent, source: str, dataschema: str) -> dict[str, str]:
    attributes = {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": source,
        "type": event.type,
        "time": rfc3339(event.occurred_at),
        "dataschema": dataschema,
    }
    if event.case_id:
        attributes["subject"] = event.case_id
    return attributes


def _key(event: CaseEvent) -> bytes | None:
    return event.case_id.encode("utf-8") if event.case_id else None


def avro_bytes(event: CaseEvent) -> bytes:
    """The event's Avro binary body, written with the current schema of its type."""
    buffer = io.BytesIO()
    try:
        fastavro.schemaless_writer(buffer, load_schema(event.type), event.to_avro())
    except (ValueError, TypeError, OverflowError, AttributeError) as exc:
        raise EncodeError(f"{event.type} {event.id} cannot be written as Avro: {exc}") from exc
    return buffer.getvalue()


def encode_binary(event: CaseEvent, *, source: str, schema_base: str) -> WireRecord:
    """Binary mode: Avro value, ``ce_*`` headers (ce_subject = case id), ``content-type: application/avro``.

    ``ce_dataschema`` is the URL of the Avro schema under ``schema_base``, the hub's public URL.
    """
    attributes = _attributes(event, source, avro_schema_url(schema_base, event.type))
    headers: Headers = [(f"ce_{name}", value.encode("utf-8")) for name, value in attributes.items()]
    headers.append((CONTENT_TYPE_HEADER, AVRO_CONTENT_TYPE.encode("ascii")))
    return WireRecord(key=_key(event), value=avro_bytes(event), headers=headers)


def encode_structured(event: CaseEvent, *, source: str, schema_base: str) -> WireRecord:
    """Structured mode: one JSON CloudEvent whose ``data`` is the event, ``content-type: application/cloudevents+json``.

    ``dataschema`` is the URL of the JSON Schema of ``data`` under ``schema_base``, the hub's public URL.
    """
    attributes = _attributes(event, source, json_schema_url(schema_base, event.type))
    document: dict[str, Any] = {**attributes, "datacontenttype": JSON_CONTENT_TYPE, "data": event.to_json()}
    value = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers: Headers = [(CONTENT_TYPE_HEADER, f"{STRUCTURED_CONTENT_TYPE}; charset=utf-8".encode("ascii"))]
    return WireRecord(key=_key(event), value=value, headers=headers)


def _header_map(headers: Any) -> dict[str, str]:
    """Header names lower-cased, values as text; bytes that are not UTF-8 are a DecodeError."""
    found: dict[str, str] = {}
    for item in headers or ():
        try:
            name, raw = item
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"a header must be a (name, value) pair, got {item!r}") from exc
        if raw is None:
            continue
        try:
            found[str(name).lower()] = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else str(raw)
        except UnicodeDecodeError as exc:
            raise DecodeError(f"header {name!r} is not UTF-8 text") from exc
    return found


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _looks_like_json_object(value: bytes) -> bool:
    return value.lstrip()[:1] == b"{"


def decode(value: bytes | None, headers: Any) -> Decoded:
    """Read a record in either mode; the ``content-type`` header decides (absent + a JSON object = structured)."""
    if value is None:
        raise DecodeError("the record has no value (a tombstone is not an event)")
    header_map = _header_map(headers)
    content_type = header_map.get(CONTENT_TYPE_HEADER)
    if content_type is None:
        mode: Mode = "structured" if _looks_like_json_object(value) else "binary"
    elif _media_type(content_type) == STRUCTURED_CONTENT_TYPE:
        mode = "structured"
    elif _media_type(content_type) == AVRO_CONTENT_TYPE:
        mode = "binary"
    else:
        raise DecodeError(
            f"unsupported content-type {content_type!r}",
            hint=f"use {AVRO_CONTENT_TYPE} with ce_* headers, or {STRUCTURED_CONTENT_TYPE} for one JSON CloudEvent",
        )
    if mode == "structured":
        return _decode_structured(value)
    return _decode_binary(value, header_map)


def _check_spec(attributes: dict[str, Any], required: tuple[str, ...], where: str) -> None:
    missing = [name for name in required if attributes.get(name) in (None, "")]
    if missing:
        raise DecodeError(f"missing CloudEvents attribute(s) {', '.join(missing)} ({where})")
    if attributes["specversion"] != SPEC_VERSION:
        raise DecodeError(f"CloudEvents specversion {attributes['specversion']!r} is not supported; use {SPEC_VERSION}")


def _event_from(data: dict[str, Any], attributes: dict[str, str]) -> CaseEvent:
    for name, attribute in (("id", "id"), ("type", "type")):
        if name in data and data[name] != attributes[attribute]:
            raise DecodeError(
                f"CloudEvents {attribute} {attributes[attribute]!r} differs from the event's {name} {data[name]!r}"
            )
    try:
        return parse_event(data)
    except EventInvalid as exc:
        raise DecodeError(f"{attributes['type']} {attributes['id']}: {exc.message}", errors=exc.errors) from exc


def _decode_binary(value: bytes, header_map: dict[str, str]) -> Decoded:
    attributes = {name[3:]: text for name, text in header_map.items() if name.startswith("ce_")}
    _check_spec(attributes, _REQUIRED_BINARY, "binary mode: ce_* headers")
    try:
        event_type, version = parse_dataschema(attributes["dataschema"])
    except UnknownEventType as exc:
        raise DecodeError(f"ce_dataschema: {exc.message}", hint=exc.hint) from exc
    if event_type != attributes["type"]:
        raise DecodeError(f"ce_dataschema names {event_type} but ce_type is {attributes['type']!r}")
    try:
        writer = writer_schema(event_type, version)
    except UnknownEventType as exc:
        raise DecodeError(f"ce_dataschema: {exc.message}", hint=exc.hint) from exc
    stream = io.BytesIO(value)
    try:
        data = fastavro.schemaless_reader(stream, writer, load_schema(event_type))
    except Exception as exc:  # fastavro raises many kinds (EOFError, IndexError, UnicodeDecodeError...) on bad bytes
        raise DecodeError(
            f"the value is not a {event_type} v{version} Avro record: {type(exc).__name__}: {exc}"
        ) from exc
    if stream.tell() != len(value):
        raise DecodeError(f"{len(value) - stream.tell()} trailing byte(s) after the {event_type} v{version} Avro record")
    if not isinstance(data, dict):
        raise DecodeError(f"the value is not a {event_type} record")
    if header_map.get(CONTENT_TYPE_HEADER):
        attributes["datacontenttype"] = header_map[CONTENT_TYPE_HEADER]
    event = _event_from(data, attributes)
    return Decoded(event=event, source=attributes["source"], mode="binary", attributes=attributes)


def _decode_structured(value: bytes) -> Decoded:
    try:
        document = json.loads(value.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError(f"the value is not a JSON CloudEvent: {exc}") from exc
    if not isinstance(document, dict):
        raise DecodeError(f"a structured CloudEvent is a JSON object, got {type(document).__name__}")
    _check_spec(document, _REQUIRED_STRUCTURED, "structured mode: JSON CloudEvent")
    data = document["data"]
    if not isinstance(data, dict):
        raise DecodeError("the CloudEvent's data must be a JSON object holding the event")
    content_type = document.get("datacontenttype")
    if content_type is not None and _media_type(str(content_type)) != JSON_CONTENT_TYPE:
        raise DecodeError(f"datacontenttype {content_type!r} is not supported in structured mode; use {JSON_CONTENT_TYPE}")
    attributes = {name: str(v) for name, v in document.items() if name != "data" and v is not None}
    if "dataschema" in attributes:
        try:
            event_type, _version = parse_dataschema(attributes["dataschema"])
        except UnknownEventType as exc:
            raise DecodeError(f"dataschema: {exc.message}", hint=exc.hint) from exc
        if event_type != attributes["type"]:
            raise DecodeError(f"dataschema names {event_type} but type is {attributes['type']!r}")
    body = {"id": attributes["id"], "type": attributes["type"], **data}
    if "occurred_at" not in body and "time" in attributes:
        body["occurred_at"] = attributes["time"]
    event = _event_from(body, attributes)
    return Decoded(event=event, source=attributes["source"], mode="structured", attributes=attributes)

