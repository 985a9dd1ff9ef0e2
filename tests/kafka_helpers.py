"""Bounded produce/consume helpers for tests against the real broker."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings


def create_topics(settings: Settings, *names: str, partitions: int = 1, replication: int = 1,
                  configs: dict[str, str] | None = None) -> None:
    """Create topics (ignore ones that exist) and wait until each has a leader."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**connection(settings, "admin").kafka_python(), client_id="casehub-tests")
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(n, partitions, replication, topic_configs=configs or {}) for n in names])
    finally:
        admin.close()


def produce(settings: Settings, topic: str, records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]],
            **config: Any) -> None:
    """Produce (key, value, headers) records with acks=all and wait for every ack (bounded)."""
    producer = KafkaProducer(**connection(settings, "admin").kafka_python(), acks="all", **config)
    try:
        futures = [producer.send(topic, key=k, value=v, headers=h) for k, v, h in records]
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close(timeout=10)


def consume(settings: Settings, topic: str, *, expect: int, timeout: float = 30.0,
            isolation: str = "read_committed", settle: float = 0.0) -> list[Any]:
    """Read ``topic`` from the beginning until ``expect`` records arrived or ``timeout`` passed; then read ``settle`` s more."""
    consumer = KafkaConsumer(topic, **connection(settings, "admin").kafka_python(), auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=None, isolation_level=isolation,
                             consumer_timeout_ms=500)
    try:
        return drain(consumer, finished=lambda records: len(records) >= expect, timeout=timeout, settle=settle)
    finally:
        consumer.close()


def drain(consumer: KafkaConsumer, *, finished: Callable[[list[Any]], bool], timeout: float, settle: float = 0.0,
          max_records: int | None = None) -> list[Any]:
    """Poll an assigned or subscribed consumer until ``finished(records)`` or ``timeout``; then ``settle`` s more."""
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not finished(records):
        for batch in consumer.poll(timeout_ms=300, max_records=max_records).values():
            records.extend(batch)
    settle_until = time.monotonic() + settle
    while time.monotonic() < settle_until:
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
    return records


def kafka_identity(settings: Settings) -> dict[str, Any]:
    """Settings overrides that keep the test cluster's CA and hub service credentials when a test moves ``home``."""
    return {"kafka_bootstrap": settings.bootstrap_servers(), "kafka_ssl_cafile": (settings.home / "tls" / "ca.pem").resolve(),
            "kafka_credentials_dir": (settings.home / "credentials").resolve()}


def kafka_identity_env(settings: Settings) -> dict[str, str]:
    """The same, as CASEHUB_* variables for a subprocess whose CASEHUB_HOME is not the test broker's."""
    return {"CASEHUB_KAFKA_BOOTSTRAP": settings.bootstrap_servers(),
            "CASEHUB_KAFKA_SSL_CAFILE": str(settings.kafka_ssl_cafile or (settings.home / "tls" / "ca.pem").resolve()),
            "CASEHUB_KAFKA_CREDENTIALS_DIR": str(settings.kafka_credentials_dir or (settings.home / "credentials").resolve())}
