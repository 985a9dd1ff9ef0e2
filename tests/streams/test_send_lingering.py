"""A transaction's records held back for the producer's linger time go out as soon as the commit waits for them."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaProducer

from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.streams.faust_compat import producer as compat
from tests.kafka_helpers import consume, create_topics


async def test_lingering_records_are_sent_when_the_commit_waits_for_them(settings: Settings, unique: str) -> None:
    topic = f"{unique}-linger"
    create_topics(settings, topic)
    producer = AIOKafkaProducer(**connection(settings, "admin").aiokafka(), transactional_id=f"{unique}-tx",
                                acks="all", linger_ms=60_000)
    await producer.start()
    try:
        await producer.begin_transaction()
        sent = [await producer.send(topic, f"r{i}".encode(), key=b"k") for i in range(3)]
        await asyncio.sleep(0.5)
        assert not any(future.done() for future in sent)  # held for the 60 s linger
        started = time.monotonic()
        compat.send_lingering(producer)
        await asyncio.wait_for(asyncio.gather(*sent), timeout=10)
        assert time.monotonic() - started < 5
        await producer.commit_transaction()
    finally:
        await producer.stop()
    assert [r.value for r in consume(settings, topic, expect=3, timeout=20)] == [b"r0", b"r1", b"r2"]
