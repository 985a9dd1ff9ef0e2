"""Partner identity at the Kafka layer, tried with clients casehub did not write: kafka-python directly, and Kafka's own
console producer and consumer from the fetched jars, against the secured test broker."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError

from casehub.broker.runtime import ensure_jars, java_binary
from casehub.core import topics
from casehub.core.kafka_connection import KafkaConnection, connection
from casehub.core.settings import Settings
from tests.access_helpers import partner_credentials
from tests.kafka_helpers import consume, create_topics, produce

BOUND = 20.0


def _partner_config(settings: Settings, org: str, password: str | None = None, **override: Any) -> dict[str, Any]:
    creds = partner_credentials(settings, org)
    config = creds.connection().kafka_python()
    if password is not None:
        config["sasl_plain_password"] = password
    config.update(override)
    return config


def _refused(action: Callable[[], Any]) -> KafkaError:
    """Run ``action``; it must fail with a Kafka error (authorisation or authentication), within the bound."""
    with pytest.raises(KafkaError) as failed:
        action()
    return failed.value


def _send(config: dict[str, Any], topic: str) -> None:
    producer = KafkaProducer(**config, acks="all", max_block_ms=int(BOUND * 1000), request_timeout_ms=10_000)
    try:
        producer.send(topic, key=b"k", value=b"v").get(timeout=BOUND)
    finally:
        producer.close(timeout=5)


def _read(config: dict[str, Any], topic: str, group: str | None = None, wait: float = BOUND) -> list[Any]:
    consumer = KafkaConsumer(**config, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=1000)
    try:
        if group:
            consumer.subscribe([topic])
        else:
            consumer.assign([TopicPartition(topic, 0)])
        records: list[Any] = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not records:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        if group and records:
            consumer.commit()
        return records
    finally:
        consumer.close()


@pytest.fixture
def two_partners(settings: Settings, unique: str) -> tuple[str, str]:
    a, b = f"ngo-{unique}-a", f"ngo-{unique}-b"
    create_topics(settings, *(name for org in (a, b) for name in (topics.inbound(org), topics.outbound(org))))
    return a, b


def test_a_partner_writes_its_inbound_and_reads_its_outbound_in_its_own_group(settings: Settings, two_partners: tuple[str, str]) -> None:
    a, _ = two_partners
    config = _partner_config(settings, a)
    _send(config, topics.inbound(a))
    assert [r.value for r in consume(settings, topics.inbound(a), expect=1)] == [b"v"]
    produce(settings, topics.outbound(a), [(b"CH-1", b"delivered", [])])
    assert [r.value for r in _read(config, topics.outbound(a), group=f"{a}.cms")] == [b"delivered"]


TOPIC_AUTHORIZATION_FAILED = 29


def test_a_partner_reads_and_writes_nothing_else(settings: Settings, two_partners: tuple[str, str]) -> None:
    a, b = two_partners
    intake = f"{settings.worker_id}-intake"
    create_topics(settings, intake)
    produce(settings, topics.outbound(b), [(b"CH-2", b"for-b", [])])
    produce(settings, intake, [(b"shard", b"internal", [])])
    config = _partner_config(settings, a)
    forbidden = [topics.outbound(b), topics.CASES_EVENTS, topics.CASES_STATE, topics.HUB_DLQ, topics.HUB_AUDIT,
                 topics.HUB_SUBJECT_KEYS, intake]

    # the cluster will not even say the topics exist, and a consumer gets none of their records
    admin = KafkaAdminClient(**config, request_timeout_ms=10_000)
    try:
        described = {t["name"]: t["error_code"] for t in admin.describe_topics(forbidden)}
    finally:
        admin.close()
    assert described == dict.fromkeys(forbidden, TOPIC_AUTHORIZATION_FAILED)
    for topic in (topics.outbound(b), intake):
        assert _read(config, topic, wait=5.0) == []
        assert consume(settings, topic, expect=1), topic  # the records are there, for the hub's eyes only

    for topic in (topics.inbound(b), intake, topics.CASES_EVENTS, topics.HUB_SUBJECT_KEYS):
        error = _refused(lambda topic=topic: _send(config, topic))
        assert "Authorization" in type(error).__name__, (topic, error)
    # its own outbound topic, but in another partner's group
    error = _refused(lambda: _read(config, topics.outbound(a), group=f"{b}.x"))
    assert "GroupAuthorization" in type(error).__name__


def test_a_partner_cannot_create_or_delete_topics(settings: Settings, two_partners: tuple[str, str]) -> None:
    a, b = two_partners
    admin = KafkaAdminClient(**_partner_config(settings, a), request_timeout_ms=10_000)
    try:
        created = _refused(lambda: admin.create_topics([NewTopic(f"partner.{a}.extra", 1, 1)]))
        deleted = _refused(lambda: admin.delete_topics([topics.inbound(b)]))
    finally:
        admin.close()
    assert "Authorization" in type(created).__name__ and "Authorization" in type(deleted).__name__
    assert topics.inbound(b) in KafkaAdminClient(**connection(settings, "admin").kafka_python()).list_topics()


def test_wrong_password_plaintext_and_a_rotated_password_are_refused(settings: Settings, two_partners: tuple[str, str]) -> None:
    a, _ = two_partners
    first = partner_credentials(settings, a)
    _send(first.connection().kafka_python(), topics.inbound(a))

    wrong = first.connection().kafka_python() | {"sasl_plain_password": "not-the-password"}
    _refused(lambda: _send(wrong, topics.inbound(a)))

    plaintext = KafkaConnection(bootstrap=settings.bootstrap_servers(), security_protocol="PLAINTEXT").kafka_python()
    _refused(lambda: _send(plaintext, topics.inbound(a)))

    second = partner_credentials(settings, a)  # rotation
    _refused(lambda: _send(first.connection().kafka_python(), topics.inbound(a)))
    _send(second.connection().kafka_python(), topics.inbound(a))


def _client_properties(folder: Path, settings: Settings, org: str) -> Path:
    creds = partner_credentials(settings, org)
    ca = folder / "ca.pem"
    ca.write_text(creds.ca_pem)
    path = folder / f"{org}.properties"
    path.write_text(
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
        f'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="{org}" '
        f'password="{creds.password}";\n'
        f"ssl.truststore.type=PEM\nssl.truststore.location={ca}\n"
    )
    return path


def _kafka_tool(settings: Settings, main: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    libs = ensure_jars(settings.cache_dir)
    return subprocess.run([java_binary(), "-Xmx256m", "-cp", f"{libs}/*", main, *args], input=stdin, text=True,
                          capture_output=True, timeout=120, check=False)


def test_kafkas_own_console_clients_connect_as_the_partner_and_nothing_more(settings: Settings, two_partners: tuple[str, str],
                                                                             tmp_path: Path) -> None:
    a, b = two_partners
    properties = _client_properties(tmp_path, settings, a)
    bootstrap = settings.bootstrap_servers()
    marker = f"hello-{uuid.uuid4().hex[:8]}"
    sent = _kafka_tool(settings, "org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server", bootstrap,
                       "--topic", topics.inbound(a), "--producer.config", str(properties), stdin=marker + "\n")
    assert sent.returncode == 0, sent.stderr[-2000:]
    assert [r.value.decode() for r in consume(settings, topics.inbound(a), expect=1)] == [marker]

    produce(settings, topics.outbound(a), [(b"CH-1", b"for-a", [])])
    produce(settings, topics.outbound(b), [(b"CH-2", b"for-b", [])])
    consumer = "org.apache.kafka.tools.consumer.ConsoleConsumer"
    read = _kafka_tool(settings, consumer, "--bootstrap-server", bootstrap, "--topic", topics.outbound(a),
                       "--group", f"{a}.console", "--from-beginning", "--max-messages", "1", "--timeout-ms", "30000",
                       "--consumer.config", str(properties))
    assert read.stdout.strip() == "for-a", read.stderr[-2000:]
    refused = _kafka_tool(settings, consumer, "--bootstrap-server", bootstrap, "--topic", topics.outbound(b),
                          "--group", f"{a}.console", "--from-beginning", "--max-messages", "1", "--timeout-ms", "15000",
                          "--consumer.config", str(properties))
    assert "for-b" not in refused.stdout
    assert "Not authorized to access topics" in refused.stdout + refused.stderr, (refused.stdout + refused.stderr)[-2000:]
