"""Canonical (hub-written, enriched) case events for replay tests, written with casehub.schemas.codec to a test topic."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from casehub.core import geography, topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.registry import Registry, parse_registry
from casehub.schemas.codec import encode_binary
from casehub.schemas.models import CaseEvent
from casehub.streams import audit, enrich
from casehub.streams.keys import new_case_id, subject_token
from tests.connectors.events import SCHEMA_BASE
from tests.kafka_helpers import create_topics, drain, produce
from tests.streams.harness import citizen_id, follow_up, partner, registry_yaml, report

PSEUDONYM_KEY = b"replay-tests"
GIVEN_NAMES = ("ด.ญ.มะลิวัลย์", "ด.ช.ก้องภพ", "นางสาวพิมพ์ลดา")
FAMILY_NAMES = ("ใจดีงามยิ่ง", "ศรีสุขสันต์ดี", "บุญมากมายนัก")
SECRET_TEXT = "บ้านหลังเขียวท้ายซอยลับ"


@dataclass(frozen=True)
class Canonical:
    """One canonical event as written to the test topic, and the secrets its raw form holds."""

    event: CaseEvent
    source: str
    citizen_id: str | None


def tambons(province: str, n: int) -> list[str]:
    return [p.tambon_code for p in geography.tambons_of_province(province)[:n]]


def canonical_events(registry: Registry, count: int, *, source_org: str, provinces: tuple[str, ...] = ("84", "50", "10"),
                     categories: tuple[str, ...] = ("children_youth", "elderly", "family_violence")) -> list[Canonical]:
    """``count`` enriched events across provinces, categories and three types (report, triage, close)."""
    places = [t for province in provinces for t in tambons(province, 4)]
    now = datetime.now(UTC) - timedelta(hours=1)
    out: list[Canonical] = []
    i = 0
    while len(out) < count:
        tambon = places[i % len(places)]
        category = categories[(i // len(places)) % len(categories)]
        cid = citizen_id()
        case_id = new_case_id("A0", now)
        token = subject_token(PSEUDONYM_KEY, cid)
        reported = report(cid=cid, category=category, tambon=tambon,
                          summary=f"{SECRET_TEXT} {i}", reporter_phone="0812345678")
        subject = reported.subject.model_copy(update={"given_name": GIVEN_NAMES[i % 3], "family_name": FAMILY_NAMES[i % 3]})
        reported = reported.model_copy(update={"subject": subject})
        triaged = follow_up("case.triaged", case_id=case_id, issue_category=category, location={"tambon_code": tambon},
                            assigned_unit="pso-99", notes=f"{SECRET_TEXT} triage {i}")
        closed = follow_up("case.closed", case_id=case_id, issue_category=category, location={"tambon_code": tambon})
        for event, citizen in ((reported, cid), (triaged, None), (closed, None)):
            event = event.model_copy(update={"case_id": case_id, "subject_token": token})
            event = enrich.enrich(event, registry=registry, now=now, state=None,
                                  sla_high=timedelta(hours=1), sla_standard=timedelta(hours=3))
            out.append(Canonical(event, topics.event_source(source_org), citizen))
            if len(out) == count:
                break
        i += 1
    return out


def write_canonical(settings: Settings, topic: str, events: list[Canonical], *, partitions: int = 3) -> None:
    """Write the events as the pipeline writes ``cases.events``: binary CloudEvents keyed by case id."""
    create_topics(settings, topic, partitions=partitions)
    records = []
    for item in events:
        wire = encode_binary(item.event, source=item.source, schema_base=SCHEMA_BASE)
        records.append((wire.key, wire.value, wire.headers))
    produce(settings, topic, records, linger_ms=20, batch_size=512 * 1024)


def registry_with(path: Path, *entries: dict[str, Any]) -> Registry:
    """A registry file of the hub's national and provincial partners plus ``entries``."""
    base = [
        partner("hotline-1300", "hotline", "national", "full", ["case.reported"], ["children_youth"]),
        partner("pso-84", "pso", {"provinces": ["84"]}, "full", ["*"]),
    ]
    path.write_text(registry_yaml([*base, *entries]))
    return parse_registry(path.read_text(), source=str(path))


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """The end offset of each partition of ``topic`` now (to read only what a test adds)."""
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=None, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return {tp.partition: off for tp, off in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def read_from(settings: Settings, topic: str, start: dict[int, int], *, expect: int | None = None,
              done: Any = None, timeout: float = 60.0, settle: float = 1.0) -> list[Any]:
    """Read ``topic`` from ``start`` offsets (read_committed) until ``expect`` records, ``done(records)`` or timeout."""
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=None, enable_auto_commit=False,
                             isolation_level="read_committed", auto_offset_reset="earliest")
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(tps)
    for tp in tps:
        consumer.seek(tp, start.get(tp.partition, 0))

    def finished(records: list[Any]) -> bool:
        return (expect is not None and len(records) >= expect) or (done is not None and done(records))

    try:
        return drain(consumer, finished=finished, timeout=timeout, settle=settle, max_records=5000)
    finally:
        consumer.close()


def audit_documents(records: list[Any]) -> list[dict[str, Any]]:
    """The audit records as entries: a routed event's record gives one per recipient (``audit.entries``)."""
    return [entry for r in records for entry in audit.entries(json.loads(r.value))]


def fresh_org(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
