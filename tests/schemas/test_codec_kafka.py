"""Integration: a binary-mode record travels through a real topic on the test broker with key and headers intact."""

from __future__ import annotations

import json
import time
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.schemas.codec import decode, encode_binary, encode_structured
from casehub.schemas.models import CaseEvent, CaseReported, CaseTriaged, parse_event
from tests.connectors.events import SCHEMA_BASE

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
WAIT_SECONDS = 30


def _event(event_type: str) -> CaseEvent:
    return parse_event(json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))["data"])


def test_binary_and_structured_records_round_trip_through_a_real_topic(
    settings: Settings, unique: str, admin: KafkaAdminClient
) -> None:
    topic = f"test.schemas.{unique}"
    config = connection(settings, "admin").kafka_python()
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])

    triaged = encode_binary(_event("case.triaged"), source="/partners/hotline-1300", schema_base=SCHEMA_BASE)
    reported = encode_binary(_event("case.reported"), source="/partners/hotline-1300", schema_base=SCHEMA_BASE)
    structured = encode_structured(_event("case.reported"), source="/partners/lao-840503", schema_base=SCHEMA_BASE)
    producer = KafkaProducer(**config)
    try:
        for record in (triaged, reported, structured):
            producer.send(topic, key=record.key, value=record.value, headers=record.headers).get(timeout=WAIT_SECONDS)
    finally:
        producer.close()

    consumer = KafkaConsumer(topic, group_id=f"g-{unique}", auto_offset_reset="earliest", **config)
    received = []
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while len(received) < 3 and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                received.extend(batch)
    finally:
        consumer.close()

    assert len(received) == 3
    first, second, third = received
    assert first.key == b"CH-2026-84-000123"
    assert first.value == triaged.value
    assert list(first.headers) == triaged.headers
    decoded = decode(first.value, first.headers)
    assert isinstance(decoded.event, CaseTriaged)
    assert decoded.event == _event("case.triaged")
    assert decoded.mode == "binary"

    assert second.key is None  # a new report has no case id yet
    back = decode(second.value, second.headers).event
    assert isinstance(back, CaseReported)
    assert back.subject.family_name == "ใจดี"

    from_structured = decode(third.value, third.headers)
    assert from_structured.mode == "structured"
    assert from_structured.source == "/partners/lao-840503"
    assert from_structured.event == _event("case.reported")
