"""The wire format: every event round-trips through binary (byte for byte) and structured (field for field) mode."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fastavro
import pytest

from casehub.schemas import EVENT_TYPES, json_schema_url
from casehub.schemas.codec import WireRecord, avro_bytes, decode, encode_binary, encode_structured
from casehub.schemas.exceptions import DecodeError, FieldError
from casehub.schemas.loader import history_schema
from casehub.schemas.models import CaseEvent, CaseReported, parse_event

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
SOURCE = "/partners/hotline-1300"
BASE = "https://casehub.example.go.th"


def _example(event_type: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
    return document


def _event(event_type: str) -> CaseEvent:
    return parse_event(_example(event_type)["data"])


def _headers(record: WireRecord) -> dict[str, bytes]:
    return dict(record.headers)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_binary_round_trip_is_byte_for_byte(event_type: str) -> None:
    first = encode_binary(_event(event_type), source=SOURCE, schema_base=BASE)
    decoded = decode(first.value, first.headers)
    again = encode_binary(decoded.event, source=decoded.source, schema_base=BASE)
    assert again == first
    assert decoded.mode == "binary"
    assert decoded.source == SOURCE
    assert decoded.event == _event(event_type)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_structured_round_trip_is_field_for_field(event_type: str) -> None:
    event = _event(event_type)
    record = encode_structured(event, source=SOURCE, schema_base=BASE)
    decoded = decode(record.value, record.headers)
    assert decoded.mode == "structured"
    assert decoded.event.to_json() == event.to_json()
    assert json.loads(record.value)["data"] == event.to_json()


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_example_files_decode_as_structured_cloudevents(event_type: str) -> None:
    document = _example(event_type)
    decoded = decode(json.dumps(document, ensure_ascii=False).encode("utf-8"), [])
    assert decoded.mode == "structured"
    assert decoded.source == document["source"]
    assert decoded.attributes["dataschema"] == json_schema_url("http://127.0.0.1:8080", event_type)
    assert decoded.event.to_json() == document["data"]


def test_binary_headers_follow_the_cloudevents_kafka_binding() -> None:
    event = _event("case.triaged")
    record = encode_binary(event, source="/partners/hotline-1300", schema_base=BASE)
    assert _headers(record) == {
        "ce_specversion": b"1.0",
        "ce_id": b"1300-20261005-000458",
        "ce_source": b"/partners/hotline-1300",
        "ce_type": b"case.triaged",
        "ce_time": b"2026-10-05T02:20:00.000Z",
        "ce_dataschema": b"https://casehub.example.go.th/v1/schemas/case.triaged/v2",
        "ce_subject": b"CH-2026-84-000123",
        "content-type": b"application/avro",
    }
    assert record.key == b"CH-2026-84-000123"
    assert all(isinstance(value, bytes) for _, value in record.headers)


def test_a_new_report_has_no_key_and_no_subject_yet() -> None:
    record = encode_binary(_event("case.reported"), source=SOURCE, schema_base=BASE)
    assert record.key is None
    assert "ce_subject" not in _headers(record)
    assert _headers(record)["ce_dataschema"] == b"https://casehub.example.go.th/v1/schemas/case.reported/v3"


def test_structured_record_is_one_json_cloudevent() -> None:
    record = encode_structured(_event("case.closed"), source="/partners/pso-84", schema_base=BASE)
    assert record.headers == [("content-type", b"application/cloudevents+json; charset=utf-8")]
    assert record.key == b"CH-2026-84-000123"
    document = json.loads(record.value.decode("utf-8"))
    assert {k: v for k, v in document.items() if k != "data"} == {
        "specversion": "1.0",
        "id": "pso84-cl-0066",
        "source": "/partners/pso-84",
        "type": "case.closed",
        "time": "2026-11-10T08:00:00.000Z",
        "dataschema": "https://casehub.example.go.th/v1/schemas/case.closed/v2/json-schema",
        "subject": "CH-2026-84-000123",
        "datacontenttype": "application/json",
    }


def test_thai_text_survives_both_modes() -> None:
    event = _event("case.reported")
    assert isinstance(event, CaseReported)
    for record in (encode_binary(event, source=SOURCE, schema_base=BASE), encode_structured(event, source=SOURCE, schema_base=BASE)):
        back = decode(record.value, record.headers).event
        assert isinstance(back, CaseReported)
        assert back.subject.family_name == "ใจดี"
        assert back.summary == event.summary
    assert "ใจดี".encode() in encode_structured(event, source=SOURCE, schema_base=BASE).value


@pytest.mark.parametrize("dataschema", [
    b"https://casehub.example.go.th/v1/schemas/case.reported/v1",
    b"http://127.0.0.1:8080/v1/schemas/case.reported/v1",  # written while the hub had another public URL
    b"https://proxy.example.org/casehub/v1/schemas/case.reported/v1",
    b"urn:casehub:schema:case.reported:v1",  # records written before ce_dataschema was a URL (replays of old topics)
])
def test_binary_written_with_an_older_version_is_read_into_the_current_model(dataschema: bytes) -> None:
    event = _event("case.reported")
    old_data = {k: v for k, v in event.to_avro().items() if k not in ("language", "enrichment")} | {"schema_version": 1}
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(history_schema("case.reported", 1)), old_data)
    headers = [(k, v) for k, v in encode_binary(event, source=SOURCE, schema_base=BASE).headers if k != "ce_dataschema"]
    headers.append(("ce_dataschema", dataschema))
    decoded = decode(buffer.getvalue(), headers)
    assert isinstance(decoded.event, CaseReported)
    assert decoded.event.language is None
    assert decoded.event.schema_version == 1
    assert decoded.event.subject == event.subject


def test_no_content_type_and_a_json_object_means_structured() -> None:
    record = encode_structured(_event("case.followup"), source=SOURCE, schema_base=BASE)
    assert decode(record.value, []).mode == "structured"


def test_structured_data_may_leave_id_type_and_time_to_the_envelope() -> None:
    document = _example("referral.accepted")
    for name in ("id", "type", "occurred_at", "schema_version"):
        document["data"].pop(name)
    decoded = decode(json.dumps(document).encode(), [("content-type", b"application/cloudevents+json")])
    assert decoded.event.id == "rakdek-ack-5521"
    assert decoded.event.type == "referral.accepted"
    assert decoded.event.occurred_at.isoformat() == "2026-10-09T09:00:00+07:00"


def _binary_headers(**override: bytes | None) -> list[tuple[str, bytes]]:
    base = dict(encode_binary(_event("case.triaged"), source=SOURCE, schema_base=BASE).headers)
    base.update(override)
    return [(k, v) for k, v in base.items() if v is not None]


GOOD_AVRO = avro_bytes(_event("case.triaged"))


@pytest.mark.parametrize(
    ("value", "headers", "message"),
    [
        (b"\x00\xff\x13garbage", _binary_headers(), "the value is not a case.triaged v2 Avro record: "),
        (GOOD_AVRO + b"\x00", _binary_headers(), "1 trailing byte(s) after the case.triaged v2 Avro record"),
        (GOOD_AVRO, _binary_headers(**{"content-type": b"text/plain"}), "unsupported content-type 'text/plain'"),
        (GOOD_AVRO, _binary_headers(ce_dataschema=None), "missing CloudEvents attribute(s) dataschema (binary mode: ce_* headers)"),
        (GOOD_AVRO, _binary_headers(ce_id=None, ce_source=None), "missing CloudEvents attribute(s) id, source (binary mode: ce_* headers)"),
        (GOOD_AVRO, _binary_headers(ce_specversion=b"0.3"), "CloudEvents specversion '0.3' is not supported; use 1.0"),
        (GOOD_AVRO, _binary_headers(ce_dataschema=b"case.triaged-1"), "ce_dataschema: 'case.triaged-1' is not a casehub schema URL"),
        (GOOD_AVRO, _binary_headers(ce_dataschema=b"urn:casehub:schema:case.triaged:v7"), "ce_dataschema: case.triaged has no schema version 7"),
        (GOOD_AVRO, _binary_headers(ce_dataschema=b"https://h.example/v1/schemas/case.triaged/v9"), "ce_dataschema: case.triaged has no schema version 9"),
        (GOOD_AVRO, _binary_headers(ce_dataschema=b"https://h.example/case.triaged.avsc"), "ce_dataschema: 'https://h.example/case.triaged.avsc' is not a casehub schema URL"),
        (GOOD_AVRO, _binary_headers(ce_type=b"case.closed"), "ce_dataschema names case.triaged but ce_type is 'case.closed'"),
        (GOOD_AVRO, _binary_headers(ce_id=b"another-id"), "CloudEvents id 'another-id' differs from the event's id '1300-20261005-000458'"),
        (GOOD_AVRO, _binary_headers(ce_source=b"\xff\xfe"), "header 'ce_source' is not UTF-8 text"),
        (b"\xff\xfe not utf-8", [("content-type", b"application/cloudevents+json")], "the value is not a JSON CloudEvent: "),
        (b"[1, 2]", [("content-type", b"application/cloudevents+json")], "a structured CloudEvent is a JSON object, got list"),
        (b'{"specversion": "1.0", "id": "x"}', [], "missing CloudEvents attribute(s) source, type, data (structured mode: JSON CloudEvent)"),
        (b'{"specversion": "1.0", "id": "x", "source": "/p", "type": "case.closed", "data": "hi"}', [],
         "the CloudEvent's data must be a JSON object holding the event"),
        (b'{"specversion": "1.0", "id": "x", "source": "/p", "type": "case.closed", "data": {}, "datacontenttype": "text/xml"}', [],
         "datacontenttype 'text/xml' is not supported in structured mode; use application/json"),
    ],
)
def test_malformed_records_raise_a_clear_decode_error(value: bytes, headers: list[tuple[str, bytes]], message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(value, headers)
    assert caught.value.message.startswith(message)


def test_a_tombstone_is_not_an_event() -> None:
    with pytest.raises(DecodeError, match="no value"):
        decode(None, [])


def test_a_readable_body_that_breaks_the_model_lists_field_errors() -> None:
    document = _example("case.closed")
    document["data"]["closure_reason"] = "solved"
    with pytest.raises(DecodeError) as caught:
        decode(json.dumps(document).encode(), [])
    assert caught.value.errors == [
        FieldError(
            "closure_reason",
            "must be one of 'needs_met', 'referred_out', 'moved_away', 'deceased', 'unreachable', 'duplicate', "
            "'declined_services' or 'other'",
        )
    ]
