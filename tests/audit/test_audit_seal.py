"""`casehub audit seal` against the real broker: every entry sealed exactly once, the chain whole across a SIGKILL,
and `casehub audit verify` naming the record where an insertion, an edit or a removal broke it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from kafka.admin import KafkaAdminClient
from kafka.structs import TopicPartition

from casehub.audit.chain import SEQ_HEADER
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from tests.kafka_helpers import consume, create_topics, produce
from tests.streams.harness import CASEHUB, Worker, free_port

PARTITIONS = 3
WAIT = 60.0


def _entries(start: int, count: int) -> list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]:
    return [(f"case-{n % 7}".encode(), json.dumps({"decision": "delivered", "n": n}).encode(),
             [("content-type", b"application/json")]) for n in range(start, start + count)]


def _sealer(settings: Settings, tmp_path: Path, unique: str, entries: str, audit: str) -> Worker:
    return Worker(settings, tmp_path, tmp_path / "unused-registry.yaml", worker_id="casehub-w" + unique,
                  command=("audit", "seal", "--entries-topic", entries, "--audit-topic", audit),
                  ready_text="audit sealer ready",
                  env_extra={"CASEHUB_AUDIT_SEALER_ID": "casehub-audit-" + unique,
                             "CASEHUB_AUDIT_SEALER_WEB_PORT": str(free_port())})


def _verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CASEHUB), "audit", "verify", *args], capture_output=True, text=True, timeout=120)


def _copy(settings: Settings, source: list, target: str) -> None:
    """An exported copy of audit records, into the same partitions of another topic."""
    from kafka import KafkaProducer

    producer = KafkaProducer(**connection(settings, "admin").kafka_python(), acks="all")
    try:
        for record in source:
            producer.send(target, key=record.key, value=record.value, headers=list(record.headers),
                          partition=record.partition).get(timeout=30)
    finally:
        producer.close(timeout=10)


def test_entries_are_sealed_once_in_order_and_the_chain_survives_a_sigkill(settings: Settings, tmp_path: Path,
                                                                           unique: str) -> None:
    entries, audit = f"casehub-audit-{unique}.entries", f"casehub-audit-{unique}.sealed"  # the auditor's prefix
    create_topics(settings, entries, audit, partitions=PARTITIONS)
    sealer = _sealer(settings, tmp_path, unique, entries, audit)
    sealer.start()
    try:
        produce(settings, entries, _entries(0, 60))
        first = consume(settings, audit, expect=60, timeout=WAIT)
        assert len(first) == 60
        sealer.kill()  # mid-chain, with nothing to commit or clean up
        produce(settings, entries, _entries(60, 60))
        sealer.start()
        sealed = consume(settings, audit, expect=120, timeout=WAIT, settle=2.0)
    finally:
        sealer.stop()

    values = sorted(json.loads(record.value)["n"] for record in sealed)
    assert values == list(range(120))  # every entry once: none lost, none sealed twice
    for partition in range(PARTITIONS):
        seqs = [int(dict(r.headers)[SEQ_HEADER]) for r in sealed if r.partition == partition]
        assert seqs == list(range(len(seqs))), f"partition {partition} chain restarted or forked: {seqs}"
    # the entry's key, value and headers arrive unchanged, in the partition it was written to
    entry_records = consume(settings, entries, expect=120, timeout=WAIT)
    by_value = {(r.partition, r.key, r.value) for r in entry_records}
    assert {(r.partition, r.key, r.value) for r in sealed} == by_value

    result = _verify("--topic", audit)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{audit}: 120 record(s) verified" in result.stdout

    report = json.loads(_verify("--topic", audit, "--json").stdout)
    assert report["ok"] and report["checked"] == 120 and len(report["partitions"]) == PARTITIONS


def test_verify_names_the_record_where_an_insertion_an_edit_or_a_removal_broke_the_chain(
        settings: Settings, tmp_path: Path, unique: str) -> None:
    entries, audit = f"casehub-audit-{unique}.entries", f"casehub-audit-{unique}.sealed"  # the auditor's prefix
    create_topics(settings, entries, audit, partitions=1)
    sealer = _sealer(settings, tmp_path, unique, entries, audit)
    sealer.start()
    try:
        produce(settings, entries, _entries(0, 6))
        sealed = consume(settings, audit, expect=6, timeout=WAIT)
        assert len(sealed) == 6 and _verify("--topic", audit).returncode == 0

        # insertion: someone with write access appends a record of their own to hub.audit
        produce(settings, audit, [(b"case-1", b'{"decision":"delivered","recipient":"ngo-x"}',
                                   [("content-type", b"application/json")])])
        forged_offset = consume(settings, audit, expect=7, timeout=WAIT)[-1].offset
        produce(settings, entries, _entries(6, 2))  # the sealer goes on after it
        assert len(consume(settings, audit, expect=9, timeout=WAIT)) == 9
    finally:
        sealer.stop()
    inserted = _verify("--topic", audit)
    assert inserted.returncode == 1
    assert f"chain broken at partition 0, offset {forged_offset}: not sealed" in inserted.stdout

    # edit and removal, on exported copies (a Kafka record cannot be changed in place)
    edited_topic, removed_topic = f"{unique}.edited", f"{unique}.removed"
    create_topics(settings, edited_topic, removed_topic, partitions=1)
    edited = list(sealed)
    edited[3] = edited[3]._replace(value=edited[3].value.replace(b'"n": 3', b'"n": 33'))
    _copy(settings, edited, edited_topic)
    _copy(settings, sealed[:2] + sealed[3:], removed_topic)
    copies = {topic: consume(settings, topic, expect=expected, timeout=WAIT)
              for topic, expected in ((edited_topic, 6), (removed_topic, 5))}
    result = _verify("--topic", edited_topic)
    assert result.returncode == 1
    assert f"offset {copies[edited_topic][3].offset}: signature does not match the record" in result.stdout
    result = _verify("--topic", removed_topic)
    assert result.returncode == 1
    assert f"offset {copies[removed_topic][2].offset}: sequence 3 where 2 was due: 1 record(s) missing" in result.stdout

    # removal at the head (delete-records), then --since anchors on the first record still there
    admin = KafkaAdminClient(**connection(settings, "admin").kafka_python(), client_id="casehub-tests")
    try:
        admin.delete_records({TopicPartition(removed_topic, 0): copies[removed_topic][1].offset})
    finally:
        admin.close()
    result = _verify("--topic", removed_topic)
    assert result.returncode == 1 and "missing at the start of the partition" in result.stdout
