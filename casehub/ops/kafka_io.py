"""kafka-python clients for the operator tools: group-less readers that never touch a consumer group's offsets."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from casehub.core.errors import wrap_kafka_error
from casehub.core.kafka_connection import Service, connection
from casehub.core.settings import Settings
from casehub.ops.exceptions import RangeStalled, UnknownTopic

Headers = list[tuple[str, bytes]]
REQUEST_TIMEOUT_MS = 30_000


@contextmanager
def reader(settings: Settings, *, client_id: str, isolation: str = "read_committed", service: Service = "operator",
           **config: Any) -> Iterator[KafkaConsumer]:
    """A consumer WITHOUT a group (assign + seek): it commits nothing, so no group's offsets can move."""
    try:
        consumer = KafkaConsumer(
            **connection(settings, service).kafka_python(),
            client_id=client_id,
            group_id=None,
            enable_auto_commit=False,
            isolation_level=isolation,
            auto_offset_reset="earliest",
            request_timeout_ms=REQUEST_TIMEOUT_MS,
            **config,
        )
    except KafkaError as exc:
        raise wrap_kafka_error(exc, "connect") from exc
    try:
        yield consumer
    except KafkaError as exc:
        raise wrap_kafka_error(exc, "read") from exc
    finally:
        consumer.close()


@contextmanager
def writer(settings: Settings, *, client_id: str, service: Service = "operator", **config: Any) -> Iterator[KafkaProducer]:
    """An idempotent producer (acks=all) that is flushed and closed on exit."""
    options: dict[str, Any] = {"acks": "all", "linger_ms": 5, "batch_size": 512 * 1024, "enable_idempotence": True}
    options.update(config)
    try:
        producer = KafkaProducer(**connection(settings, service).kafka_python(), client_id=client_id, **options)
    except KafkaError as exc:
        raise wrap_kafka_error(exc, "connect") from exc
    try:
        yield producer
        producer.flush(timeout=60)
    except KafkaError as exc:
        raise wrap_kafka_error(exc, "produce") from exc
    finally:
        producer.close(timeout=10)


def partitions_of(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    """Every partition of ``topic``; raises UnknownTopic if it does not exist."""
    found = consumer.partitions_for_topic(topic)
    if not found:
        raise UnknownTopic(f"topic {topic} does not exist", hint="`casehub topics list --all` lists the topics")
    return [TopicPartition(topic, p) for p in sorted(found)]


@dataclass(frozen=True, slots=True)
class Span:
    """Offsets ``[start, end)`` of one partition to read."""

    partition: int
    start: int
    end: int

    @property
    def size(self) -> int:
        return max(0, self.end - self.start)


def read_spans(consumer: KafkaConsumer, topic: str, spans: Mapping[int, Span], *, max_records: int = 2000,
               stall_seconds: float = 30.0) -> Iterator[Any]:
    """Every record of ``spans`` (read_committed: aborted records and markers are skipped), partition by partition
    interleaved as fetched. Raises RangeStalled if no partition moves for ``stall_seconds`` (an open transaction)."""
    todo = {TopicPartition(topic, s.partition): s for s in spans.values() if s.size > 0}
    if not todo:
        return
    consumer.assign(list(todo))
    for tp, span in todo.items():
        consumer.seek(tp, span.start)
    last_progress = time.monotonic()
    while todo:
        batches = consumer.poll(timeout_ms=500, max_records=max_records)
        for tp, records in batches.items():
            current = todo.get(tp)
            if current is None:
                continue
            for record in records:
                if record.offset >= current.end:
                    break
                yield record
            last_progress = time.monotonic()
        for tp in list(todo):
            if consumer.position(tp) >= todo[tp].end:
                consumer.pause(tp)
                del todo[tp]
                last_progress = time.monotonic()
        if todo and time.monotonic() - last_progress > stall_seconds:
            stuck = {tp.partition: (consumer.position(tp), todo[tp].end) for tp in todo}
            raise RangeStalled(
                f"{topic}: no progress for {stall_seconds:.0f} s at (position, end) {stuck}",
                hint="an open transaction holds the last stable offset back; retry later or narrow the range",
            )


def whole_topic(consumer: KafkaConsumer, topic: str) -> dict[int, Span]:
    """The spans from each partition's first retained offset to its end now (a snapshot: later records are not read)."""
    tps = partitions_of(consumer, topic)
    begin = consumer.beginning_offsets(tps, timeout_ms=REQUEST_TIMEOUT_MS)
    end = consumer.end_offsets(tps, timeout_ms=REQUEST_TIMEOUT_MS)
    return {tp.partition: Span(tp.partition, begin[tp], end[tp]) for tp in tps}
