"""The gateway's Kafka producer: idempotent, acks=all; a write returns only when every record is acknowledged.

A write is bounded (``WRITE_DEADLINE_SECONDS``): with Kafka down the partner hears 503 + Retry-After at once and
retries; event ids make the retry harmless. A producer whose idempotence state the cluster no longer knows (after a
whole-cluster restart: OutOfOrderSequenceNumber, UnknownProducerId) is replaced by a fresh one, so the gateway
recovers by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    RecordTooLargeError,
    UnknownProducerId,
)

from casehub.connectors.gateway.exceptions import TopicMissing, WriteFailed
from casehub.core.errors import TransportError, wrap_kafka_error
from casehub.core.kafka_connection import connection
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.schemas.codec import WireRecord

log = get_logger(__name__)
METADATA_WAIT_SECONDS = 3.0
WRITE_DEADLINE_SECONDS = 4.0
"""A POST answers within ~5 s whatever Kafka does: 202 once every record is acknowledged, else 503."""
STALE_PRODUCER = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch, ProducerFenced)
TOO_LARGE = (RecordTooLargeError, MessageSizeTooLargeError)
START_UP_WAIT_SECONDS = 60.0
"""How long a starting gateway waits for a cluster it cannot reach (one restarting with it, a loaded machine)."""
START_UP_RETRY_PAUSE_SECONDS = 3.0
UNREACHABLE = (KafkaConnectionError, KafkaTimeoutError, OSError)


@dataclass
class ProduceHealth:
    """How the last write went: what /healthz reports besides reachability."""

    ok: bool | None = None
    at: float | None = None
    error: str | None = None
    producers_replaced: int = 0

    def record(self, ok: bool, error: str | None = None) -> None:
        self.ok, self.at, self.error = ok, time.time(), error


@dataclass(frozen=True, slots=True)
class Written:
    """Where one record landed."""

    topic: str
    partition: int
    offset: int


class EventWriter:
    """Writes wire records to a topic with acks=all through one idempotent producer."""

    def __init__(self, settings: Settings, *, client_id: str = "casehub-gateway") -> None:
        self.settings = settings
        self.client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._known_topics: set[str] = set()
        self.last_produce_seconds = 0.0
        self.health = ProduceHealth()
        self._replacing = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    async def start(self, *, wait_seconds: float = START_UP_WAIT_SECONDS,
                    pause: float = START_UP_RETRY_PAUSE_SECONDS) -> None:
        """Connect to the cluster, trying again while it cannot be reached; TransportError after ``wait_seconds``
        or at once for what waiting cannot fix (refused credentials)."""
        deadline = time.monotonic() + wait_seconds
        attempt = 1
        while True:
            try:
                self._producer = await self._new_producer()
                return
            except TransportError as exc:
                if not isinstance(exc.__cause__, UNREACHABLE) or time.monotonic() + pause > deadline:
                    raise
                log.warning("gateway cannot reach the cluster yet; retrying", attempt=attempt, error=str(exc),
                            retry_in_seconds=pause)
            await asyncio.sleep(pause)
            attempt += 1

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            **connection(self.settings, "gateway").aiokafka(),
            client_id=self.client_id,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=30_000,
            max_request_size=max(1_048_576, self.settings.gateway_max_upload_bytes * 2),
        )
        try:
            await producer.start()
        except (KafkaError, OSError) as exc:
            await producer.stop()
            raise wrap_kafka_error(exc, "connect (gateway producer)") from exc
        return producer

    async def _replace_producer(self, stale: AIOKafkaProducer) -> None:
        """Swap in a fresh idempotent producer (new producer id); the stale one is closed in the background."""
        closing: AIOKafkaProducer = stale
        async with self._replacing:
            if id(self._producer) != id(closing):
                return  # another request already replaced it
            fresh = await self._new_producer()
            self._producer = fresh
            self.health.producers_replaced += 1
            log.warning("gateway producer replaced", reason="the cluster no longer knows its producer id")
        task = asyncio.create_task(closing.stop())
        self._closing.add(task)  # keep a reference until it is done
        task.add_done_callback(self._closing.discard)

    async def stop(self) -> None:
        """Flush and disconnect."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise WriteFailed("the gateway's Kafka producer is not running")
        return self._producer

    async def partitions(self, topic: str) -> set[int]:
        """The partition ids of ``topic``; TopicMissing if the cluster does not have it."""
        try:
            found: set[int] = await asyncio.wait_for(self.producer.partitions_for(topic), METADATA_WAIT_SECONDS)
        except (TimeoutError, KafkaError) as exc:
            raise TopicMissing(
                f"topic {topic} does not exist on the cluster",
                hint="an operator runs `casehub topics apply` after adding the partner to the registry",
            ) from exc
        return found

    async def ensure_topic(self, topic: str) -> None:
        """Raise TopicMissing unless ``topic`` exists (cached once seen)."""
        if topic not in self._known_topics:
            await self.partitions(topic)
            self._known_topics.add(topic)

    async def write(self, topic: str, records: Sequence[WireRecord]) -> list[Written]:
        """Send every record and wait for all acknowledgements, within the deadline; a failure raises WriteFailed.

        Nothing is answered 202 unless Kafka acknowledged every record (acks=all); a 503 may still leave records
        written, which the retry the partner sends is deduplicated against (same event ids).
        """
        started = time.perf_counter()
        try:
            results = await asyncio.wait_for(self._write(topic, records), WRITE_DEADLINE_SECONDS)
        except TimeoutError:
            self.health.record(False, f"no acknowledgement within {WRITE_DEADLINE_SECONDS:.0f} s")
            log.error("produce timed out", topic=topic, seconds=WRITE_DEADLINE_SECONDS)
            raise WriteFailed(
                f"Kafka did not acknowledge the events within {WRITE_DEADLINE_SECONDS:.0f} s",
                hint="retry the same request after Retry-After: event ids make a retry harmless",
            ) from None
        self.last_produce_seconds = time.perf_counter() - started
        self.health.record(True)
        return results

    async def _write(self, topic: str, records: Sequence[WireRecord]) -> list[Written]:
        await self.ensure_topic(topic)
        for attempt in (1, 2):
            producer = self.producer
            try:
                futures: list[Any] = [
                    await producer.send(topic, value=r.value, key=r.key, headers=list(r.headers)) for r in records
                ]
                results = await asyncio.gather(*futures)
                return [Written(topic, meta.partition, meta.offset) for meta in results]
            except STALE_PRODUCER as exc:
                self.health.record(False, type(exc).__name__)
                await self._replace_producer(producer)
                if attempt == 2:
                    raise self._failed(topic, exc) from exc
            except TOO_LARGE as exc:
                raise self._failed(topic, exc, hint="send fewer or smaller events per request") from exc
            except KafkaError as exc:
                raise self._failed(topic, exc) from exc
        raise AssertionError("unreachable")

    def _failed(self, topic: str, exc: KafkaError, hint: str | None = None) -> WriteFailed:
        self.health.record(False, type(exc).__name__)
        log.error("produce failed", topic=topic, error=type(exc).__name__)
        return WriteFailed(f"Kafka did not acknowledge the events: {type(exc).__name__}",
                           hint=hint or "retry the same request: event ids make a retry harmless")

    async def reachable(self, timeout: float = 5.0) -> bool:
        """Whether the cluster answers a metadata request within ``timeout`` seconds."""
        if self._producer is None:
            return False
        try:
            metadata = await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout)
        except (TimeoutError, KafkaError, OSError):
            return False
        return bool(metadata.brokers())
