"""Read ``hub.audit`` back for verification, and find where a partition's chain ends for the writer that resumes it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from casehub.audit.chain import ChainHead, read_link, record_digest
from casehub.audit.verify import AuditRecord
from casehub.ops.kafka_io import REQUEST_TIMEOUT_MS, Span, read_spans

TAIL_WINDOW = 64  # records read back from the end to find the last sealed one (transaction markers take offsets)


def _record(message: Any) -> AuditRecord:
    headers = [(str(name), bytes(value or b"")) for name, value in (message.headers or [])]
    return AuditRecord(message.partition, message.offset, message.key, message.value, headers)


def partition_records(consumer: KafkaConsumer, topic: str, span: Span) -> Iterator[AuditRecord]:
    """Every committed record of one partition's span, in offset order."""
    for message in read_spans(consumer, topic, {span.partition: span}):
        yield _record(message)


def chain_head(consumer: KafkaConsumer, topic: str, partition: int) -> ChainHead:
    """Where the partition's committed chain ends: the head the next sealed record continues from."""
    tp = TopicPartition(topic, partition)
    begin = consumer.beginning_offsets([tp], timeout_ms=REQUEST_TIMEOUT_MS)[tp]
    end = consumer.end_offsets([tp], timeout_ms=REQUEST_TIMEOUT_MS)[tp]
    window = TAIL_WINDOW
    while True:
        start = max(begin, end - window)
        last = None
        for record in partition_records(consumer, topic, Span(partition, start, end)):
            if read_link(record.headers) is not None:
                last = record
        if last is not None:
            link = read_link(last.headers)
            assert link is not None
            digest = record_digest(partition, link.seq, link.prev, last.key, last.value, last.headers)
            return ChainHead(partition, link.seq + 1, digest)
        if start <= begin:
            return ChainHead(partition)
        window *= 4
