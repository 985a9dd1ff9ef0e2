"""``casehub simulate --follow-hub`` against a running ``casehub worker``: whole lifecycles accepted, broken ones dead-lettered."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from casehub.connectors.simulator import SimulatorOptions, generate
from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from casehub.registry import Registry
from casehub.schemas.codec import decode
from casehub.streams.keys import CASE_ID
from casehub.vault.feed import reading_store
from tests.connectors.events import SCHEMA_BASE
from tests.connectors.simulator.test_simulator_cli import run_casehub
from tests.streams.harness import Worker
from tests.vault.helpers import plain_value

OPTIONS = ["--province", "90", "--duplicates", "0.4", "--retries", "0.1", "--malformed", "0.05", "--structured-share", "0.3"]
LIBRARY_OPTIONS = SimulatorOptions(provinces=("90",), duplicates=0.4, retries=0.1, malformed=0.05, structured_share=0.3,
                                   schema_base=SCHEMA_BASE)


def _seed_with_a_duplicate(start: int, registry: Registry) -> int:
    """The first seed from ``start`` whose 6 lifecycles hold a second channel's report of a case: with 6 cases
    at a 0.4 share some seeds have none, and then the linking this test is about goes unchecked."""
    return next(seed for seed in range(start, start + 200)
                if any(r.intent.kind == "duplicate" for r in generate(seed, 6, LIBRARY_OPTIONS, registry=registry)))


def header(record: Any, name: str) -> bytes | None:
    return next((v for k, v in (record.headers or []) if k == name), None)


def read_from(settings: Settings, starts: dict[TopicPartition, int], *, done: Any, timeout: float) -> list[Any]:
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=None, enable_auto_commit=False,
                             isolation_level="read_committed")
    records: list[Any] = []
    try:
        consumer.assign(list(starts))
        for partition, offset in starts.items():
            consumer.seek(partition, offset)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not done(records):
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def ends(settings: Settings, names: list[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(n, p) for n in names for p in sorted(consumer.partitions_for_topic(n) or ())]
        return dict(consumer.end_offsets(partitions))
    finally:
        consumer.close()


def test_follow_hub_lifecycles_pass_the_pipeline_under_the_case_ids_the_hub_assigned(
    settings: Settings, small_registry: Registry, small_registry_path: Path, tmp_path: Path, unique: str
) -> None:
    apply_topics(settings, small_registry)
    starts = ends(settings, [topics.CASES_EVENTS, topics.HUB_DLQ])
    worker = Worker(settings, tmp_path, small_registry_path)
    worker.start()
    try:
        seed = _seed_with_a_duplicate(int(unique[1:], 16) % 1_000_000_007, small_registry)
        result = run_casehub(["simulate", "-n", "6", "--seed", str(seed), *OPTIONS, "--follow-hub", "--link-timeout", "120",
                              "--json", "--no-progress"], small_registry_path)
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        summary = json.loads(result.stdout)
        expected = list(generate(seed, 6, LIBRARY_OPTIONS, registry=small_registry))
        accepted_ids = {r.event_id for r in expected if r.intent.kind in ("valid", "duplicate")}
        broken = [r for r in expected if r.intent.kind == "malformed"]

        def canonical_done(records: list[Any]) -> bool:
            return accepted_ids <= {(header(r, "ce_id") or b"").decode() for r in records}

        canonical = read_from(settings, {p: o for p, o in starts.items() if p.topic == topics.CASES_EVENTS},
                              done=canonical_done, timeout=120)
        broken_values = {r.record.value for r in broken}
        with reading_store(settings) as store:  # dead letters are sealed under their subject's data key
            plain = plain_value(store)
            dead = read_from(settings, {p: o for p, o in starts.items() if p.topic == topics.HUB_DLQ},
                             done=lambda rs: len([r for r in rs if plain(r) in broken_values]) >= len(broken),
                             timeout=60)
            dead_mine = [r for r in dead if plain(r) in broken_values]
    finally:
        worker.stop()
    assert summary["unlinked"] == 0 and summary["linked_to_hub"] > 0
    mine = [r for r in canonical if (header(r, "ce_id") or b"").decode() in accepted_ids]
    assert Counter((header(r, "ce_id") or b"").decode() for r in mine) == Counter(accepted_ids)  # retries dropped
    case_of_ref: dict[str, set[bytes]] = {}
    ref_of_id = {r.event_id: r.case_ref for r in expected}
    for record in mine:
        case_id = header(record, "ce_subject") or b""
        assert CASE_ID.match(case_id.decode()) and record.key == case_id
        case_of_ref.setdefault(ref_of_id[(header(record, "ce_id") or b"").decode()] or "", set()).add(case_id)
    assert len(case_of_ref) == 6
    assert all(len(ids) == 1 for ids in case_of_ref.values()), case_of_ref  # one hub case per simulated case
    duplicates = [r for r in expected if r.intent.kind == "duplicate"]
    assert duplicates
    linked = [decode(r.value, r.headers).event for r in canonical if header(r, "ce_type") == b"case.linked"]
    joined = {e.linked_event_id: e.case_id for e in linked}  # type: ignore[attr-defined]
    for duplicate in duplicates:  # the second channel's report joined the first one's case
        assert joined[duplicate.event_id].encode() in case_of_ref[duplicate.case_ref or ""]
    assert len(dead_mine) == len(broken)
    assert all(header(r, "hub.error.stage") for r in dead_mine)
