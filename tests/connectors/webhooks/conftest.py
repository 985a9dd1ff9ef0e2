"""Fixtures of the webhook tests: a registry of their own, a real receiver, the dispatcher in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from casehub.connectors.webhooks.dispatcher import Dispatcher
from casehub.connectors.webhooks.secrets import SecretStore
from casehub.connectors.webhooks.targets import targets_of
from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.registry import parse_registry
from casehub.schemas.models import CaseEvent
from casehub.streams import audit
from tests.connectors.events import outbound
from tests.connectors.webhooks.receiver import Receiver
from tests.kafka_helpers import create_topics, produce
from tests.streams.harness import partner, registry_yaml

STOP_LIMIT = 30.0


@dataclass
class WebhookHub:
    """One webhook partner (its outbound topic, URL at ``receiver``, issued secret) and the settings to serve it."""

    settings: Settings
    org: str
    secret: str
    receiver: Receiver

    @property
    def topic(self) -> str:
        return topics.outbound(self.org)

    def publish(self, *events: CaseEvent, disclosure: str = "pseudonymised") -> list[Any]:
        """Write events to the partner's outbound topic as the stream pipeline does; returns the wire records."""
        wires = [outbound(e, disclosure=disclosure) for e in events]
        produce(self.settings, self.topic, [(w.key, w.value, w.headers) for w in wires])
        return wires

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(self.settings, targets_of(load(self.settings), SecretStore.from_settings(self.settings)))

    def committed(self) -> int | None:
        """The group's committed offset of partition 0 of the outbound topic (None if nothing committed)."""
        return self.committed_offsets().get(0)

    def committed_offsets(self) -> dict[int, int]:
        """``{partition: committed offset}`` of the outbound topic for the dispatcher's group."""
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(**connection(self.settings, "admin").kafka_python(), client_id="casehub-tests")
        try:
            group = self.settings.webhook_group_id
            offsets = admin.list_group_offsets(group).get(group, {})
        finally:
            admin.close()
        return {tp.partition: int(o.offset) for tp, o in offsets.items() if tp.topic == self.topic and o.offset >= 0}


def load(settings: Settings) -> Any:
    path = settings.registry_path
    assert path is not None
    return parse_registry(path.read_text(), source=str(path))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def hub(settings: Settings, unique: str, tmp_path: Path, receiver: Receiver) -> WebhookHub:
    """Partner ``ngo-<unique>`` with a webhook URL at the receiver; short backoff and 3 attempts."""
    return make_hub(settings, unique, tmp_path, receiver)


def make_hub(settings: Settings, unique: str, tmp_path: Path, receiver: Receiver, *, partitions: int = 1) -> WebhookHub:
    """The registry, topics, settings and issued secret of one webhook partner."""
    org = f"ngo-{unique}"
    registry = tmp_path / "partners.yaml"
    registry.write_text(registry_yaml([
        partner(org, "ngo", "national", "pseudonymised", [], webhook_url=receiver.url),
        partner(f"ngo-{unique}-nohook", "ngo", "national", "pseudonymised", []),
    ]))
    configured = settings.model_copy(update={
        "registry_path": registry,
        "webhook_secrets_path": tmp_path / "secrets.json",
        "webhook_group_id": f"casehub-webhooks-{unique}",
        "webhook_max_attempts": 3,
        "webhook_backoff_initial_seconds": 0.05,
        "webhook_backoff_max_seconds": 0.2,
        "webhook_timeout_seconds": 5.0,
    })
    create_topics(configured, topics.outbound(org), partitions=partitions)
    create_topics(configured, topics.HUB_DLQ, topics.HUB_AUDIT)
    secret, _new = SecretStore.from_settings(configured).issue(org)
    return WebhookHub(configured, org, secret.get_secret_value(), receiver)


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[Dispatcher]:
    """The dispatcher's run loop as a task of the test's event loop; stopped (bounded) on exit."""
    await dispatcher.start()
    task = asyncio.create_task(dispatcher.run())
    try:
        yield dispatcher
    finally:
        dispatcher.stop()
        await asyncio.wait_for(task, STOP_LIMIT)


async def until(condition: Callable[[], bool], *, timeout: float = 60.0, what: str = "condition") -> None:
    """Wait in the event loop (so the dispatcher keeps running) until ``condition()`` holds; bounded."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.05)


class Tail:
    """Records appended to a shared topic (hub.audit, hub.dlq) after this was created."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.settings = settings
        self.topic = topic
        consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=None)
        try:
            parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            self.start = consumer.end_offsets(parts)
        finally:
            consumer.close()

    def read(self, keep: Callable[[Any], bool], *, expect: int, timeout: float = 30.0, settle: float = 1.0) -> list[Any]:
        """Records since creation that ``keep`` accepts: ``expect`` of them (bounded), then ``settle`` s more for extras."""
        consumer = KafkaConsumer(**connection(self.settings, "admin").kafka_python(), group_id=None, enable_auto_commit=False,
                                 isolation_level="read_committed")
        found: list[Any] = []
        try:
            consumer.assign(list(self.start))
            for tp, offset in self.start.items():
                consumer.seek(tp, offset)
            deadline = time.monotonic() + timeout
            while len(found) < expect and time.monotonic() < deadline:
                for batch in consumer.poll(timeout_ms=300).values():
                    found.extend(r for r in batch if keep(r))
            settle_until = time.monotonic() + settle
            while time.monotonic() < settle_until:
                for batch in consumer.poll(timeout_ms=200).values():
                    found.extend(r for r in batch if keep(r))
        finally:
            consumer.close()
        return found


def audit_of(records: list[Any]) -> list[dict[str, Any]]:
    """The entries of hub.audit records, in the order they were written per case (the pipeline's record of a
    routed event gives one entry per recipient)."""
    return [entry for r in records for entry in audit.entries(json.loads(r.value))]
