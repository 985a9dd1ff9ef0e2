"""A fenced transaction is left to the partition's new owner (never dead-lettered); start-up waits out a broker down."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import IllegalOperation, InvalidProducerEpoch, ProducerFenced, UnknownTopicOrPartitionError
from kafka.admin import NewTopic
from kafka.errors import MessageSizeTooLargeError

from casehub.core.errors import TransportError
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.ops.topics import admin_client
from casehub.streams.deliveries import Deliveries, Letter, is_fencing
from casehub.streams.runner import with_start_up_retries

WAIT = 60.0


def test_fencing_errors_are_not_refusals() -> None:
    assert all(is_fencing(error) for error in (ProducerFenced(), InvalidProducerEpoch(),
                                                IllegalOperation("Can't send messages while not in transaction")))
    assert not any(is_fencing(error) for error in (UnknownTopicOrPartitionError(), MessageSizeTooLargeError(), None))


def test_a_fenced_transaction_is_abandoned_not_dead_lettered(settings: Settings, admin: Any, unique: str) -> None:
    admin.create_topics([NewTopic(unique, 1, 1)])
    transactional_id = f"{unique}-fenced"
    dead_letters: list[str] = []
    deliveries = Deliveries()
    deliveries.on_dead_letter = lambda stage, exception: dead_letters.append(exception)

    async def fenced_then_settled() -> None:
        config = connection(settings, "admin").aiokafka()
        first = AIOKafkaProducer(transactional_id=transactional_id, **config)
        second = AIOKafkaProducer(transactional_id=transactional_id, **config)
        await first.start()
        try:
            await first.begin_transaction()
            await asyncio.wait_for(await first.send(unique, b"before"), WAIT)
            await second.start()  # another worker takes the partition over: the first producer is fenced
            sent = await first.send(unique, b"after")
            deliveries.track(transactional_id, Letter(unique, None, b"after", ()), sent)
            with pytest.raises(ProducerFenced):
                await asyncio.wait_for(deliveries.settle(transactional_id, first), WAIT)
        finally:
            await first.stop()
            await second.stop()

    asyncio.run(fenced_then_settled())
    assert dead_letters == []  # the new owner re-reads the record: a dead letter would duplicate it


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_start_up_checks_wait_for_an_unreachable_cluster(settings: Settings) -> None:
    unreachable = settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{_closed_port()}"})
    attempts: list[Settings] = []

    def count_brokers() -> int:
        tried = unreachable if not attempts else settings  # the broker answers from the second attempt on
        attempts.append(tried)
        with admin_client(tried, "worker") as client:
            return len(client.describe_cluster()["brokers"])

    assert with_start_up_retries(count_brokers, seconds=WAIT, pause=0.5) >= 1
    assert len(attempts) == 2


def test_start_up_checks_give_up_after_their_bound(settings: Settings) -> None:
    unreachable = settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{_closed_port()}"})

    def count_brokers() -> int:
        with admin_client(unreachable, "worker") as client:
            return len(client.describe_cluster()["brokers"])

    with pytest.raises(TransportError):
        with_start_up_retries(count_brokers, seconds=1.0, pause=0.5)
