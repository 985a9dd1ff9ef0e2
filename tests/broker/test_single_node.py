"""The broker that `make test` started is a real Kafka: records go in and come back with key and headers."""

from __future__ import annotations

import json
import subprocess
import sys

from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from tests.kafka_helpers import consume, create_topics, produce


def test_produce_and_consume_roundtrip(settings: Settings, unique: str) -> None:
    topic = f"{unique}.roundtrip"
    create_topics(settings, topic, partitions=3)
    sent = [(f"CASE-{i}".encode(), f"value-{i}".encode(), [("ce_id", f"e{i}".encode())]) for i in range(20)]
    produce(settings, topic, sent)

    got = consume(settings, topic, expect=20)

    assert sorted((r.key, r.value, tuple(r.headers)) for r in got) == sorted((k, v, tuple(h)) for k, v, h in sent)


def test_transactions_work_on_one_node(settings: Settings, unique: str) -> None:
    """faust's exactly_once needs the transaction log; one node sets its replication factor to 1."""
    from kafka import KafkaProducer

    topic = f"{unique}.tx"
    create_topics(settings, topic)
    producer = KafkaProducer(**connection(settings, "admin").kafka_python(), transactional_id=f"{unique}-tx", acks="all")
    producer.init_transactions()
    producer.begin_transaction()
    producer.send(topic, b"committed")
    producer.commit_transaction()
    producer.begin_transaction()
    producer.send(topic, b"aborted")
    producer.abort_transaction()
    producer.close()

    got = consume(settings, topic, expect=1, settle=1.0)

    assert [r.value for r in got] == [b"committed"]


def test_status_reports_running_node() -> None:
    out = subprocess.run([sys.executable, "-m", "casehub", "broker", "status", "--json"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    status = json.loads(out)
    assert status["nodes"] and all(node["alive"] for node in status["nodes"])
    assert status["bootstrap"].startswith("127.0.0.1:")


def test_up_twice_starts_no_second_cluster() -> None:
    before = json.loads(subprocess.run([sys.executable, "-m", "casehub", "broker", "status", "--json"],
                                       capture_output=True, text=True, check=True, timeout=60).stdout)
    out = subprocess.run([sys.executable, "-m", "casehub", "broker", "up"], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    after = json.loads(subprocess.run([sys.executable, "-m", "casehub", "broker", "status", "--json"],
                                      capture_output=True, text=True, check=True, timeout=60).stdout)
    assert "kafka up" in out
    assert [n["pid"] for n in after["nodes"]] == [n["pid"] for n in before["nodes"]]
