"""What the workers wrote during a phase, and those same records written again by plain aiokafka: the Kafka-side limit.

``snapshot`` takes the end of every topic (read_committed) before and after a phase; ``read_written`` reads
what was committed in between on the topics the workers write (the hub's, partners' outbound, the group's
own: intake, cells, commands, table changelogs). ``baseline`` then does the least a Kafka application could
do for the same input: read the phase's inbound records and write exactly the captured records (same
partition layout, keys, values and headers: same counts and bytes), committing a transaction with the
consumed offsets every commit interval, like the worker. It writes to mirror topics (``bench.<run>.<n>``,
as many partitions as each original) so that hub and partner topics never hold a record twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTP
from kafka.admin import NewTopic

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.ops.topic_plan import replication_for
from casehub.ops.topics import admin_client, broker_count

Ends = dict[tuple[str, int], int]


@dataclass(frozen=True, slots=True)
class Captured:
    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @property
    def size(self) -> int:
        return len(self.key or b"") + len(self.value or b"") + sum(len(k) + len(v) for k, v in self.headers)


@dataclass
class Capture:
    """The records written during a phase, and the inbound records the phase sent (where they are)."""

    records: list[Captured] = field(default_factory=list)
    inbound: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)  # (topic, partition) -> [from, to)

    def by_kind(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for record in self.records:
            kind = record.topic
            if kind.startswith("partner.") and kind.endswith(".outbound"):
                kind = "partner.outbound"
            elif "-" in kind and not kind.startswith(("cases.", "hub.", "stats.")):
                kind = "worker " + kind.split("-", 3)[-1]  # casehub-bench-<id>-<what>
            found[kind] += 1
        return found

    @property
    def inbound_records(self) -> int:
        return sum(end - start for start, end in self.inbound.values())

    @property
    def bytes(self) -> int:
        return sum(record.size for record in self.records)


def _consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=None, enable_auto_commit=False,
                         isolation_level="read_committed", max_partition_fetch_bytes=8 * 1024 * 1024)


def snapshot(settings: Settings) -> Ends:
    """The end (last stable offset) of every partition of every topic now."""
    consumer = _consumer(settings)
    try:
        partitions = [KafkaTP(t, p) for t in sorted(consumer.topics()) if not t.startswith("__")
                      for p in sorted(consumer.partitions_for_topic(t) or ())]
        return {(tp.topic, tp.partition): offset for tp, offset in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def _written_by_workers(topic: str, worker_id: str) -> bool:
    return topic.startswith(f"{worker_id}-") or topic in topics.HUB_TOPICS or (
        topic.startswith("partner.") and topic.endswith(".outbound"))


def read_written(settings: Settings, before: Ends, after: Ends, worker_id: str, timeout: float = 120.0) -> Capture:
    """The committed records written between the two snapshots on the topics the workers write."""
    capture = Capture()
    spans = {tp: (before.get(tp, 0), end) for tp, end in after.items() if end > before.get(tp, 0)}
    capture.inbound = {tp: span for tp, span in spans.items() if tp[0].startswith("partner.") and tp[0].endswith(".inbound")}
    wanted = {tp: span for tp, span in spans.items() if _written_by_workers(tp[0], worker_id)}
    consumer = _consumer(settings)
    try:
        assigned = [KafkaTP(t, p) for t, p in wanted]
        consumer.assign(assigned)
        for tp in assigned:
            consumer.seek(tp, wanted[(tp.topic, tp.partition)][0])
        open_ = set(assigned)
        deadline = time.monotonic() + timeout
        while open_ and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500, max_records=20_000).items():
                end = wanted[(tp.topic, tp.partition)][1]
                capture.records += [Captured(r.topic, r.partition, r.key, r.value, list(r.headers or ()))
                                    for r in records if r.offset < end]
            open_ = {tp for tp in open_ if consumer.position(tp) < wanted[(tp.topic, tp.partition)][1]}
    finally:
        consumer.close()
    return capture


def create_mirrors(settings: Settings, capture: Capture, run: str) -> dict[str, str]:
    """A mirror topic for each topic the capture holds records of, with as many partitions."""
    partitions: dict[str, int] = {}
    consumer = _consumer(settings)
    try:
        for topic in sorted({r.topic for r in capture.records}):
            partitions[topic] = len(consumer.partitions_for_topic(topic) or {0})
    finally:
        consumer.close()
    names = {topic: f"bench.{run}.{i}" for i, topic in enumerate(sorted(partitions))}
    with admin_client(settings) as admin:
        replicas = replication_for(settings, broker_count(admin))
        admin.create_topics([NewTopic(names[t], partitions[t], replicas) for t in sorted(partitions)])
    return names


def delete_mirrors(settings: Settings, names: Iterable[str]) -> None:
    with admin_client(settings) as admin:
        admin.delete_topics(sorted(names))


async def baseline(settings: Settings, capture: Capture, mirrors: dict[str, str], *, commit_interval: float) -> float:
    """Seconds to read the phase's inbound records and write the captured ones, one transaction per interval."""
    conn = connection(settings, "admin").aiokafka()
    group = f"bench-baseline-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(**conn, group_id=None, enable_auto_commit=False, isolation_level="read_committed",
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    producer = AIOKafkaProducer(**conn, transactional_id=group, acks="all", linger_ms=settings.worker_linger_ms,
                                max_batch_size=1024 * 1024, max_request_size=4 * 1024 * 1024)
    await consumer.start()
    await producer.start()
    outputs, total_in = capture.records, capture.inbound_records
    written = consumed = 0
    try:
        assigned = [TopicPartition(t, p) for t, p in capture.inbound]
        consumer.assign(assigned)
        for tp in assigned:
            consumer.seek(tp, capture.inbound[(tp.topic, tp.partition)][0])
        # every mirror's metadata in one request before the clock starts, as each worker producer has it
        # (faust_compat.know_topics): else each first send to a topic waits for a request of its own
        await producer.client.set_topics(sorted(set(mirrors.values())))
        await _warm_up(producer, {(mirrors[out.topic], out.partition) for out in outputs})
        started = last_commit = time.perf_counter()
        await producer.begin_transaction()
        offsets: dict[TopicPartition, int] = {}
        while consumed < total_in:
            for tp, records in (await consumer.getmany(timeout_ms=100, max_records=2000)).items():
                end = capture.inbound[(tp.topic, tp.partition)][1]
                for record in records:
                    if record.offset >= end:
                        continue
                    consumed += 1
                    offsets[tp] = record.offset + 1
                    share = len(outputs) * consumed // total_in  # the outputs of the records read so far
                    for out in outputs[written:share]:
                        await producer.send(mirrors[out.topic], out.value, key=out.key, headers=out.headers,
                                            partition=out.partition)
                    written = share
            if time.perf_counter() - last_commit >= commit_interval or consumed >= total_in:
                for out in outputs[written:] if consumed >= total_in else ():
                    await producer.send(mirrors[out.topic], out.value, key=out.key, headers=out.headers,
                                        partition=out.partition)
                if offsets:
                    await producer.send_offsets_to_transaction(offsets, group)
                    offsets = {}
                await producer.commit_transaction()
                last_commit = time.perf_counter()
                if consumed < total_in:
                    await producer.begin_transaction()
        return time.perf_counter() - started
    finally:
        await producer.stop()
        await consumer.stop()


async def _warm_up(producer: AIOKafkaProducer, partitions: set[tuple[str, int]]) -> None:
    """One record to each mirror partition in a transaction that is aborted, before the clock starts.

    A broker takes a while to open the logs of ~1,400 topics just created: the first writes were refused
    (NotLeaderForPartition) and retried after 100 ms, in the timed run, and the baseline moved by 3x between runs.
    The worker writes topics that exist long since."""
    await producer.begin_transaction()
    sent = [await producer.send(topic, b"", partition=partition) for topic, partition in sorted(partitions)]
    await asyncio.gather(*sent)
    await producer.abort_transaction()


async def run_baseline(settings: Settings, capture: Capture, run: str) -> float:
    """Mirrors made, the baseline timed, mirrors deleted; returns its seconds."""
    mirrors = await asyncio.to_thread(create_mirrors, settings, capture, run)
    try:
        await asyncio.sleep(2.0)  # leaders elected for the new topics before the clock starts
        return await baseline(settings, capture, mirrors, commit_interval=settings.worker_commit_interval)
    finally:
        await asyncio.to_thread(delete_mirrors, settings, mirrors.values())
