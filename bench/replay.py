"""Replay throughput against a raw kafka-python copy of the same range, measured in the same run.

    CASEHUB_HOME=.casehub/test CASEHUB_BROKER_PORT=29092 .venv/bin/python bench/replay.py --events 20000

Writes N canonical events (binary CloudEvents, keyed by case id) to a fresh topic, then times:
  raw       kafka-python consume -> produce of the range, bytes untouched (the baseline)
  file      casehub replay --to-file (decode each record, JSON lines)
  pipeline  casehub replay --to-pipeline (back to partner.<org>.inbound; case.reported re-encoded without case id)
  partner   casehub replay --to-partner, a pseudonymised partner: route + project + encode + one audit record each
and prints events/s for each and the ratio to the raw copy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from casehub.connectors.replay import ReplayRequest, run_replay
from casehub.core import geography, topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.registry import parse_registry
from casehub.schemas.codec import encode_binary
from casehub.schemas.models import parse_event
from casehub.streams import enrich
from casehub.streams.keys import new_case_id

SCHEMA_BASE = "http://127.0.0.1:8080"  # the hub URL the records name their schemas under (readers use type and version)
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "events"
CITIZEN_IDS = ("1103700123458", "3100600123455", "1101700203451")


def example(event_type: str) -> dict:
    return json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))["data"]


def registry_text(org: str, source_org: str) -> str:
    def entry(pid: str, kind: str, jurisdiction: object, disclosure: str, types: list[str], cats: list[str]) -> dict:
        return {"id": pid, "kind": kind, "name": {"th": pid, "en": pid}, "jurisdiction": jurisdiction,
                "disclosure": disclosure, "subscriptions": [{"event_types": types, "issue_categories": cats}]}

    partners = [
        entry("pso-84", "pso", {"provinces": ["84"]}, "full", ["*"], ["*"]),
        entry(source_org, "ngo", {"provinces": ["84"]}, "full", ["case.closed"], ["*"]),
        entry(org, "ngo", {"provinces": ["84", "50"]}, "pseudonymised", ["case.reported", "case.triaged"], ["*"]),
    ]
    return json.dumps({"version": 1, "partners": partners}, ensure_ascii=False)


def canonical_records(registry, count: int, source: str) -> list[tuple[bytes | None, bytes, list]]:  # type: ignore[no-untyped-def]
    places = [p.tambon_code for pp in ("84", "50", "10") for p in geography.tambons_of_province(pp)[:5]]
    now = datetime.now(UTC) - timedelta(hours=1)
    kinds = ("case.reported", "case.triaged", "case.closed")
    records = []
    for i in range(count):
        kind = kinds[i % 3]
        data = example(kind)
        data.update(id=f"bench-{uuid.uuid4().hex[:16]}", occurred_at=(now - timedelta(minutes=5)).isoformat(),
                    case_id=new_case_id("C0", now), location={"tambon_code": places[i % len(places)]})
        if kind == "case.reported":
            data["subject"] = {**data["subject"], "citizen_id": CITIZEN_IDS[i % 3]}
        if kind == "case.triaged":
            data["assigned_unit"] = "pso-84"
        event = enrich.enrich(parse_event(data), registry=registry, now=now, state=None,
                              sla_high=timedelta(hours=1), sla_standard=timedelta(hours=3))
        wire = encode_binary(event, source=source, schema_base=SCHEMA_BASE)
        records.append((wire.key, wire.value, wire.headers))
    return records


def produce_all(settings: Settings, topic: str, records: list) -> None:  # type: ignore[type-arg]
    producer = KafkaProducer(**connection(settings, "admin").kafka_python(), acks="all", linger_ms=20, batch_size=512 * 1024)
    for key, value, headers in records:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush(timeout=120)
    producer.close()


def raw_copy(settings: Settings, source: str, target: str) -> tuple[int, float]:
    """The baseline: kafka-python assign + seek, read_committed, produce each record unchanged (same producer
    settings as the replay: acks=all, idempotent, linger 5 ms, 512 KiB batches)."""
    started = time.perf_counter()
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=None, enable_auto_commit=False,
                             isolation_level="read_committed", max_partition_fetch_bytes=4 * 1024 * 1024)
    producer = KafkaProducer(**connection(settings, "admin").kafka_python(), acks="all", enable_idempotence=True, linger_ms=5,
                             batch_size=512 * 1024)
    tps = [TopicPartition(source, p) for p in sorted(consumer.partitions_for_topic(source))]
    end = consumer.end_offsets(tps)
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    copied = 0
    while any(consumer.position(tp) < end[tp] for tp in tps):
        for records in consumer.poll(timeout_ms=500, max_records=2000).values():
            for record in records:
                producer.send(target, key=record.key, value=record.value, headers=record.headers)
                copied += 1
    producer.flush(timeout=120)
    seconds = time.perf_counter() - started
    producer.close()
    consumer.close()
    return copied, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=3)
    args = parser.parse_args()
    settings = Settings()
    run = "bench" + uuid.uuid4().hex[:8]
    org, source_org = f"ngo-{run}", f"ngo-{run}-src"
    with tempfile.TemporaryDirectory() as folder:
        registry = parse_registry(registry_text(org, source_org), source="bench")
        source, raw_target = f"{run}.cases.events", f"{run}.raw-copy"
        admin = KafkaAdminClient(**connection(settings, "admin").kafka_python())
        audit = f"{run}.audit"  # the role of hub.audit, kept off the shared one
        names = [source, raw_target, topics.outbound(org), topics.inbound(source_org), audit]
        admin.create_topics([NewTopic(n, args.partitions, 1) for n in names])
        existing = set(admin.list_topics())
        missing = [NewTopic(t, 1, 1) for t in (topics.HUB_AUDIT, topics.CASES_STATE) if t not in existing]
        if missing:
            admin.create_topics(missing)
        admin.close()
        print(f"writing {args.events} canonical events to {source} ({args.partitions} partitions)...", file=sys.stderr)
        produce_all(settings, source, canonical_records(registry, args.events, topics.event_source(source_org)))

        copied, raw_seconds = raw_copy(settings, source, raw_target)
        results = [("raw kafka-python copy", copied, copied, raw_seconds)]
        for label, options in (
            ("replay --to-file", {"target": "file", "path": Path(folder) / "replay.jsonl"}),
            ("replay --to-pipeline", {"target": "pipeline"}),
            ("replay --to-partner (pseudonymised)", {"target": "partner", "partner": org}),
        ):
            report = run_replay(settings, registry, ReplayRequest(from_topic=source, progress=False, audit_topic=audit,
                                                                  **options))
            results.append((label, report.read, report.selected, report.seconds))

    raw_rate = results[0][1] / results[0][3]
    print(f"{'mode':<38} {'read':>7} {'sent':>7} {'seconds':>8} {'events/s':>9} {'vs raw':>7}")
    for label, read, sent, seconds in results:
        rate = read / seconds
        print(f"{label:<38} {read:>7} {sent:>7} {seconds:>8.2f} {rate:>9,.0f} {rate / raw_rate:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
