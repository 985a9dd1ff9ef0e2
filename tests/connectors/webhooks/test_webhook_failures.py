"""When the hub cannot record a dead letter, the dispatcher stops with a TransportError and the record stays uncommitted."""

from __future__ import annotations

import asyncio

import pytest

from casehub.core.errors import TransportError
from casehub.core.settings import Settings
from tests.connectors.webhooks.conftest import WebhookHub
from tests.kafka_helpers import create_topics, produce

TOO_BIG = 2 * 1024 * 1024  # larger than the producer's (and hub.dlq's) 1 MiB limit


async def test_a_dead_letter_that_cannot_be_written_stops_the_dispatcher_and_loses_nothing(
    hub: WebhookHub, settings: Settings, admin: object
) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType

    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, hub.topic, configs={"max.message.bytes": str(4 * TOO_BIG)})])  # type: ignore[attr-defined]
    create_topics(settings, hub.topic)
    # an undecodable record goes to hub.dlq unchanged: this one is too big to be written there
    produce(settings, hub.topic, [(b"CH-big", b"\x00" * TOO_BIG, [("content-type", b"application/avro")])],
            max_request_size=4 * TOO_BIG)

    dispatcher = hub.dispatcher()
    await dispatcher.start()
    with pytest.raises(TransportError) as failure:
        await asyncio.wait_for(dispatcher.run(), 60)
    assert "hub.dlq" in str(failure.value)
    assert hub.committed() in (None, 0)  # not past the record: it is read again when the dispatcher restarts
    assert hub.receiver.requests == []
