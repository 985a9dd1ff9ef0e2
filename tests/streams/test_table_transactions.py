"""A worker SIGKILLed mid-transaction keeps its tables: RocksDB holds exactly the committed changelog state (no write of
the transaction the kill left open), the restart restores only the changelogs' tail, and every event arrives once."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from rocksdict import AccessType, Options, Rdict

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from tests.streams.conftest import start_hub
from tests.streams.harness import header, publish, read_until, report, with_ids

EVENTS = 300
WAIT = 120.0
TABLES = ("seen", "subjects", "cases", "deadlines", "cells", "expiry")
OFFSET_KEY = b"__faust\x00offset__"  # where faust's RocksDB store keeps a partition's changelog offset
# a commit every 5 s (not every 50 ms), the kill half an interval after one became visible: it lands inside an open
# transaction of the second hop, which holds the table writes of the records the first hop's commit released
COMMIT_INTERVAL = 5.0
SLOW_COMMITS = {"CASEHUB_WORKER_COMMIT_INTERVAL": str(COMMIT_INTERVAL)}

Partition = tuple[str, int]  # (table, partition)


def stored_tables(data: Path) -> dict[Partition, tuple[int | None, dict[bytes, bytes]]]:
    """Per table partition of a stopped worker's RocksDB: its stored changelog offset and its keys and values."""
    found: dict[Partition, tuple[int | None, dict[bytes, bytes]]] = {}
    for path in sorted(data.rglob("*-*.db")):
        name, _, partition = path.name.removesuffix(".db").rpartition("-")
        if name not in TABLES:
            continue
        db = Rdict(str(path), options=Options(raw_mode=True), access_type=AccessType.read_only())
        try:
            items: dict[bytes, bytes] = dict(db.items())  # type: ignore[arg-type]  # raw mode: bytes only
        finally:
            db.close()
        offset = items.pop(OFFSET_KEY, None)
        found[(name, int(partition))] = (None if offset is None else int(offset), items)
    return found


def changelogs(settings: Settings, worker_id: str, partitions: list[Partition], isolation: str) -> dict[Partition, list[Any]]:
    """Every record of the tables' changelog partitions, read from the start under ``isolation``."""
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), enable_auto_commit=False, group_id=None,
                             isolation_level=isolation)
    try:
        tps = {TopicPartition(f"{worker_id}-{name}-changelog", p): (name, p) for name, p in partitions}
        consumer.assign(list(tps))
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(list(tps))
        found: dict[Partition, list[Any]] = {key: [] for key in tps.values()}
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500).items():
                found[tps[tp]] += records
        return found
    finally:
        consumer.close()


def state_at(records: list[Any], offset: int | None) -> dict[bytes, bytes]:
    """A table partition as its committed changelog records up to ``offset`` make it (None: deleted)."""
    state: dict[bytes, bytes] = {}
    for record in records:
        if offset is None or record.offset > offset:
            break
        if record.value is None:
            state.pop(record.key, None)
        else:
            state[record.key] = record.value
    return state


def restored_records(log: str) -> int:
    """Changelog records the worker's tables restored, by its "table recovered" lines."""
    lines = [json.loads(line) for line in log.splitlines() if '"table recovered"' in line and line.startswith("{")]
    assert lines, "the worker logged no table recovery"
    return sum(int(line["records_restored"]) for line in lines)


def test_sigkill_mid_transaction_keeps_committed_table_state_only(settings: Settings, workdir: Path) -> None:
    started = time.time() - 5
    hub = start_hub(settings, workdir, env_extra=SLOW_COMMITS)
    events = [report() for _ in range(EVENTS)]
    ids = {e.id for e in events}

    def produce() -> None:
        for start in range(0, EVENTS, 10):
            publish(settings, hub.lao, events[start : start + 10])
            time.sleep(0.5)  # a steady stream: the kill finds a transaction open

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        read_until(settings, [topics.CASES_EVENTS], done=lambda rs: len(with_ids(rs, ids)) >= EVENTS // 3,
                   timeout=WAIT, since=started)
        time.sleep(COMMIT_INTERVAL / 2)
        hub.worker.kill()
    finally:
        producer.join(timeout=WAIT)

    # what the killed worker left on disk is exactly the committed changelog state up to its stored offsets
    stored = stored_tables(workdir / "data")
    assert {name for name, _ in stored} >= {"seen", "cases"}, sorted(stored)
    assert any(offset is not None for offset, _ in stored.values()), "no partition stored a changelog offset"
    committed = changelogs(settings, hub.worker.worker_id, list(stored), "read_committed")
    differing = [part for part, (offset, items) in stored.items() if items != state_at(committed[part], offset)]
    assert differing == [], f"RocksDB differs from the committed changelog in {differing}"
    # and the kill did leave writes in flight: changelog records past the stored offsets, not committed
    written = changelogs(settings, hub.worker.worker_id, list(stored), "read_uncommitted")
    in_flight = sum(1 for part, (offset, _) in stored.items() for r in written[part]
                    if offset is None or r.offset > offset)
    seen = {f"{n}-{p}": (offset, len(committed[(n, p)]), len(written[(n, p)])) for (n, p), (offset, _) in stored.items()}
    assert in_flight > 0, f"nothing was in flight at the kill; (stored offset, committed, written) per partition: {seen}"
    committed_total = sum(len(records) for records in committed.values())

    restart_at = len(hub.worker.log_text())
    hub.worker.start()
    log = hub.worker.log_text()[restart_at:]
    assert "tables kept" in log and "restoring tables from their changelogs" not in log
    restored = restored_records(log)
    assert restored < committed_total / 2, f"{restored} records restored of {committed_total} committed: a rebuild"

    outputs = [topics.outbound("pso-84"), topics.CASES_EVENTS]
    records = read_until(settings, outputs, done=lambda rs: len(with_ids(rs, ids)) >= EVENTS * len(outputs),
                         timeout=WAIT, settle=5.0, since=started)
    hub.worker.stop()
    copies = Counter((r.topic, (header(r, "ce_id") or b"").decode()) for r in with_ids(records, ids))
    per_topic = {topic: dict(Counter(copies[(topic, i)] for i in ids)) for topic in outputs}
    if per_topic != {topic: {1: EVENTS} for topic in outputs}:
        kept = Path(tempfile.gettempdir()) / f"casehub-table-transactions-{hub.worker.worker_id}.log"
        kept.write_text(hub.worker.log_text())
        raise AssertionError(f"copies per event, by topic: {per_topic}; worker log kept in {kept}")
