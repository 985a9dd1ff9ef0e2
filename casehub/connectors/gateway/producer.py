"""The gateway's Kafka producer: idempotent, acks=all; a write returns only when every record is acknowledged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from casehub.connectors.gateway.exceptions import TopicMissing, WriteFailed
from casehub.core.errors import wrap_kafka_error
from casehub.core.kafka_connection import connection
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.schemas.codec import WireRecord

log = get_logger(__name__)
METADATA_WAIT_SECONDS = 5.0


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

    async def start(self) -> None:
        """Connect to the cluster (raises TransportError when it cannot be reached)."""
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
        self._producer = producer

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
        """Send every record and wait for all acknowledgements; any failure raises WriteFailed (retry all)."""
        await self.ensure_topic(topic)
        started = time.perf_counter()
        try:
            futures: list[Any] = [
                await self.producer.send(topic, value=r.value, key=r.key, headers=list(r.headers)) for r in records
            ]
            results = await asyncio.gather(*futures)
        except KafkaError as exc:
            log.error("produce failed", topic=topic, error=str(exc))
            raise WriteFailed(
                f"Kafka did not acknowledge the events: {type(exc).__name__}: {exc}",
                hint="retry the same request: event ids make a retry harmless",
            ) from exc
        self.last_produce_seconds = time.perf_counter() - started
        return [Written(topic, meta.partition, meta.offset) for meta in results]

    async def reachable(self, timeout: float = 5.0) -> bool:
        """Whether the cluster answers a metadata request within ``timeout`` seconds."""
        if self._producer is None:
            return False
        try:
            metadata = await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout)
        except (TimeoutError, KafkaError, OSError):
            return False
        return bool(metadata.brokers())
