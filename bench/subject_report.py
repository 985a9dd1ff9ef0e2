"""`casehub subject report` on a year of national traffic, against a plain read of the same topics in the same run.

    CASEHUB_HOME=/tmp/h0 CASEHUB_BROKER_PORT=21000 .venv/bin/python bench/subject_report.py --days 365

Writes, into topics of its own, a year of canonical events (DESIGN.md: ~1,500 a day; binary CloudEvents keyed by
case id, shards spread as the hub's case ids spread them) and their audit records (one per event naming its 3.4
recipients on average, as the pipeline writes them), with one person's three events among them. Then times:
  baseline  a kafka-python read of every record of the three topics, nothing parsed (the Kafka-side floor)
  report    casehub.rights.lineage.trace for that person (shard filter, decode, audit byte filter, JSON)
and prints records, seconds, the ratio baseline/report and whether the person's disclosures were all found.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from casehub.connectors.simulator.people import citizen_id
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.ops.kafka_io import read_spans, reader, whole_topic
from casehub.rights.identity import SubjectId
from casehub.rights.lineage import HubTopics, trace
from casehub.schemas.codec import encode_binary
from casehub.schemas.models import parse_event
from casehub.streams.keys import new_case_id, shard_of_token

SCHEMA_BASE = "http://127.0.0.1:8080"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "events" / "case.reported.json"
RECIPIENTS = ("pso-84", "tc-840502", "lao-840501", "ngo-hope", "hosp-11111")
POOL = 3000  # distinct encoded events; the rest reuse them under fresh case ids (only 1 in 256 is decoded)


def _event(rng: random.Random, settings: Settings, cid: str, when: datetime, shard: str) -> tuple[object, str]:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))["data"]
    data.update(id="ev-" + uuid.UUID(int=rng.getrandbits(128)).hex[:16], occurred_at=when.isoformat())
    data["subject"] = {**data["subject"], "citizen_id": cid}
    person = SubjectId.citizen(settings, cid)
    event = parse_event(data).model_copy(update={"case_id": new_case_id(shard, when), "subject_token": person.token})
    return event, person.token


def _audit(event_id: str, event_type: str, case_id: str, token: str, recipients: int, at: datetime) -> bytes:
    """The pipeline's record of one routed event: one record naming every recipient (casehub/streams/audit.py)."""
    return json.dumps({"decision": "routed", "event_id": event_id, "event_type": event_type,
                       "event_source": "/partners/hotline-1300", "case_id": case_id, "subject_token": token,
                       "lawful_basis": "vital_interest", "sensitive_basis": None, "lawful_reference": None,
                       "sensitivity": [],
                       "recipients": [{"recipient": r, "decision": "delivered", "disclosure": "full",
                                       "topic": f"partner.{r}.outbound", "withheld_fields": [], "reason": None}
                                      for r in RECIPIENTS[:recipients]],
                       "at": at.isoformat(timespec="milliseconds")}, separators=(",", ":")).encode()


def _recipients(n: int) -> int:
    """3 or 4 recipients (3.4 on average, the simulator mix's figure)."""
    return 3 + (n % 5 < 2)


def write_year(settings: Settings, where: HubTopics, days: int, per_day: int, seed: int) -> tuple[str, int, int, int]:
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=days)
    target = citizen_id(rng, 2015, "8405")
    target_shard = shard_of_token(SubjectId.citizen(settings, target).token)
    pool = []
    for i in range(POOL):
        shard = f"{rng.randrange(256):02X}"
        if shard == target_shard:
            shard = f"{(int(shard, 16) + 1) % 256:02X}"
        event, token = _event(rng, settings, citizen_id(rng, 1990 + i % 30, "8405"), start, shard)
        pool.append((encode_binary(event, source="/partners/hotline-1300", schema_base=SCHEMA_BASE), token))  # type: ignore[arg-type]
    producer = KafkaProducer(**connection(settings, "admin").kafka_python(), acks="all", linger_ms=50,
                             batch_size=1024 * 1024, compression_type=None)
    total = days * per_day
    events = audits = 0
    target_at = {total // 5, total // 2, (4 * total) // 5}
    for n in range(total):
        at = start + timedelta(seconds=n * 86400 / per_day)
        if n in target_at:
            event, token = _event(rng, settings, target, at, target_shard)
            wire = encode_binary(event, source="/partners/hotline-1300", schema_base=SCHEMA_BASE)  # type: ignore[arg-type]
            case_id, event_id = event.case_id, event.id  # type: ignore[attr-defined]
        else:
            wire, token = pool[n % POOL]
            case_id = new_case_id(f"{rng.randrange(256):02X}", at)
            event_id = f"ev-{n:016x}"
            if case_id.split("-")[2][:2] == target_shard:
                case_id = new_case_id(f"{(int(target_shard, 16) + 1) % 256:02X}", at)
        producer.send(where.events, key=case_id.encode(), value=wire.value, headers=wire.headers)
        events += 1
        producer.send(where.audit, key=case_id.encode(),
                      value=_audit(event_id, "case.reported", case_id, token, _recipients(n), at),
                      headers=[("content-type", b"application/json")])
        audits += 1
    producer.flush(timeout=600)
    producer.close()
    return target, events, audits, sum(_recipients(n) for n in target_at)


def plain_read(settings: Settings, where: HubTopics) -> int:
    count = 0
    for topic in (where.events, where.dlq, where.audit):
        with reader(settings, client_id="bench-plain-read") as consumer:
            for _ in read_spans(consumer, topic, whole_topic(consumer, topic)):
                count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=1500, help="canonical events a day (DESIGN.md: ~1,500)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    settings = Settings()
    run = "bench-sr-" + uuid.uuid4().hex[:6]
    where = HubTopics(events=f"{run}.cases.events", audit=f"{run}.hub.audit", dlq=f"{run}.hub.dlq")
    admin = KafkaAdminClient(**connection(settings, "admin").kafka_python(), client_id="bench")
    admin.create_topics([NewTopic(where.events, settings.topic_partitions, 1), NewTopic(where.audit, settings.topic_partitions, 1),
                         NewTopic(where.dlq, 1, 1)])
    started = time.monotonic()
    target, events, audits, expected = write_year(settings, where, args.days, args.per_day, args.seed)
    print(f"wrote {events:,} events and {audits:,} audit records in {time.monotonic() - started:.0f} s", file=sys.stderr)
    try:
        timings = []
        for step in ("plain", "report", "plain"):  # the plain read before and after: the page cache warms up
            started = time.monotonic()
            if step == "plain":
                plain = plain_read(settings, where)
            else:
                found = trace(settings, SubjectId.citizen(settings, target), where)
            timings.append(time.monotonic() - started)
        baseline_s, report_s = min(timings[0], timings[2]), timings[1]
    finally:
        admin.delete_topics([where.events, where.audit, where.dlq])
        admin.close()
    complete = len(found.events) == 3 and len(found.disclosures) == expected
    result = {"days": args.days, "events": events, "audit_records": audits, "records_read": plain,
              "baseline_s": round(baseline_s, 1), "report_s": round(report_s, 1),
              "ratio": round(baseline_s / report_s, 2), "person_events": len(found.events),
              "person_disclosures": len(found.disclosures), "expected_disclosures": expected, "complete": complete}
    print(f"{plain:,} records: plain read {baseline_s:.1f} s, subject report {report_s:.1f} s "
          f"(ratio {result['ratio']}); the person's events {len(found.events)}/3, disclosures "
          f"{len(found.disclosures)}/{expected}")
    if args.json:
        print(json.dumps(result))
    return 0 if result["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
