"""GET /v1/stream: the caller's outbound topic as server-sent events, resumable from ``Last-Event-ID``.

Each event's ``id`` is the stream's position: ``<partition>:<offset>`` of the last record sent from each
partition of the topic, comma-separated (a one-partition topic gives exactly ``0:<offset>``). A client
that reconnects with that id as ``Last-Event-ID`` resumes right after it on every partition. No consumer
group is used: partitions are assigned and sought, and only committed records are read. The events are
written to the wire by sse-starlette (framing, keep-alive comments, noticing a client that left).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from sse_starlette import ServerSentEvent

from casehub.connectors.gateway.exceptions import RequestInvalid
from casehub.core.errors import wrap_kafka_error
from casehub.core.kafka_connection import connection
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.schemas.codec import JSON_CONTENT_TYPE, SPEC_VERSION, decode, rfc3339
from casehub.schemas.dataschema import json_schema_url
from casehub.schemas.exceptions import DecodeError

log = get_logger(__name__)
OPENED_EVENT = "stream.opened"
DISCLOSURE_HEADER = "ce_casehubdisclosure"
_POSITION = re.compile(r"^\d+:-?\d+(,\d+:-?\d+)*$")

Start = Literal["earliest", "latest"]


def parse_position(text: str) -> dict[int, int]:
    """``"0:41,1:17"`` → ``{0: 41, 1: 17}``; raises RequestInvalid for anything else."""
    compact = text.replace(" ", "")
    if not _POSITION.match(compact):
        raise RequestInvalid(
            f"Last-Event-ID {text[:80]!r} is not a stream position",
            hint="send back the id of the last event received, e.g. 0:41 (partition:offset, comma-separated)",
        )
    return {int(p): int(o) for p, o in (pair.split(":") for pair in compact.split(","))}


def format_position(position: dict[int, int]) -> str:
    """The SSE id of a position: partitions in order."""
    return ",".join(f"{p}:{o}" for p, o in sorted(position.items()))


def cloudevent_json(record: Any, *, schema_base: str) -> tuple[str, str]:
    """A delivered record as a structured-mode CloudEvent (JSON) and its type; undecodable ones are described.

    ``dataschema`` is the JSON Schema of ``data`` under ``schema_base`` (the hub's public URL), at the version of
    the model that renders it: the record's own ``ce_dataschema`` names its Avro writer schema instead.
    """
    try:
        decoded = decode(record.value, record.headers)
    except DecodeError as exc:
        log.warning("undecodable outbound record", topic=record.topic, partition=record.partition, offset=record.offset)
        return json.dumps({"error": "undecodable", "message": exc.message}), "hub.undecodable"
    event = decoded.event
    document: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": decoded.source,
        "type": event.type,
        "time": rfc3339(event.occurred_at),
        "dataschema": json_schema_url(schema_base, event.type),
        "datacontenttype": JSON_CONTENT_TYPE,
    }
    if event.case_id:
        document["subject"] = event.case_id
    disclosure = next((v for k, v in (record.headers or []) if k == DISCLOSURE_HEADER), None)
    if disclosure is not None:
        document["casehubdisclosure"] = disclosure.decode("utf-8", errors="replace")
    document["data"] = event.to_json()
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")), event.type


class OutboundStream:
    """One SSE connection's consumer: positioned at start-up, then yields SSE text until the client leaves."""

    def __init__(
        self, settings: Settings, topic: str, partitions: set[int], *, last_event_id: str | None, start: Start,
        before_sending: Callable[[list[Any]], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.before_sending = before_sending  # the audit entry of each fetched batch, written before it is sent
        self.partitions = partitions
        self.topic = topic
        self.resume = parse_position(last_event_id) if last_event_id else None
        self.start = start
        self.position: dict[int, int] = {}
        self._consumer: AIOKafkaConsumer | None = None

    async def open(self) -> None:
        """Connect, assign every partition and seek; raises TopicMissing or TransportError."""
        consumer = AIOKafkaConsumer(
            **connection(self.settings, "gateway").aiokafka(),
            client_id="casehub-gateway-stream",
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
        )
        try:
            await consumer.start()
            assigned = [TopicPartition(self.topic, p) for p in sorted(self.partitions)]
            consumer.assign(assigned)
            await self._seek(consumer, assigned)
        except KafkaError as exc:
            await consumer.stop()
            raise wrap_kafka_error(exc, f"open stream of {self.topic}") from exc
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer

    async def _seek(self, consumer: AIOKafkaConsumer, assigned: list[TopicPartition]) -> None:
        fresh = [tp for tp in assigned if self.resume is None or tp.partition not in self.resume]
        for tp in assigned:
            if self.resume is not None and tp.partition in self.resume:
                consumer.seek(tp, self.resume[tp.partition] + 1)
        if fresh:
            # a partition the client has no position for starts where the client asked (resuming: the beginning)
            if self.start == "latest" and self.resume is None:
                await consumer.seek_to_end(*fresh)
            else:
                await consumer.seek_to_beginning(*fresh)
        for tp in assigned:
            self.position[tp.partition] = await consumer.position(tp) - 1

    async def close(self) -> None:
        """Disconnect the consumer."""
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def events(self, *, limit: int | None = None) -> AsyncIterator[ServerSentEvent]:
        """The opening position, then one event per record; ends after ``limit`` records (sse-starlette ends it
        earlier, by cancelling, when the client leaves)."""
        if self._consumer is None:
            raise RuntimeError("open() the stream first")
        opened = json.dumps({"topic": self.topic, "position": format_position(self.position)})
        yield ServerSentEvent(opened, event=OPENED_EVENT, id=format_position(self.position))
        sent = 0
        while limit is None or sent < limit:
            batches = await self._consumer.getmany(timeout_ms=500, max_records=100)
            fetched = [record for records in batches.values() for record in records]
            if limit is not None:
                fetched = fetched[: limit - sent]
            if fetched and self.before_sending is not None:
                await self.before_sending(fetched)
            for record in fetched:
                self.position[record.partition] = record.offset
                data, event_type = cloudevent_json(record, schema_base=self.settings.public_base_url())
                yield ServerSentEvent(data, event=event_type, id=format_position(self.position))
                sent += 1
            if limit is not None and sent >= limit:
                return
