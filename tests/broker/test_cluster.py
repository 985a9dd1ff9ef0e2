"""A three-node KRaft quorum survives a node crash; bad starts fail with one clear line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from casehub.broker.cluster import LocalCluster
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from tests.kafka_helpers import consume

THREE_NODE_PORT = 29192


@pytest.fixture
def three_nodes(tmp_path: Path) -> Iterator[LocalCluster]:
    settings = Settings(home=tmp_path, broker_port=THREE_NODE_PORT, broker_heap="384m")
    cluster = LocalCluster(settings, nodes=3)
    cluster.up(timeout=180)
    yield cluster
    cluster.down(purge=True)


@pytest.mark.cluster
def test_three_nodes_keep_producing_and_consuming_after_one_dies(three_nodes: LocalCluster, unique: str) -> None:
    settings = three_nodes.settings.model_copy(update={"kafka_bootstrap": three_nodes.bootstrap})
    topic = f"{unique}.rf3"
    admin = KafkaAdminClient(**connection(settings, "admin").kafka_python())
    admin.create_topics([NewTopic(topic, 3, 3)])
    described = admin.describe_topics([topic])[0]
    admin.close()
    assert all(len(p["replica_nodes"]) == 3 for p in described["partitions"])

    producer = KafkaProducer(**connection(settings, "admin").kafka_python(), acks="all", retries=10, request_timeout_ms=15000)
    for i in range(50):
        producer.send(topic, key=f"k{i}".encode(), value=f"before-{i}".encode())
    producer.flush(timeout=30)

    three_nodes.kill_node(2)
    assert [n.alive for n in three_nodes.status()] == [True, False, True]

    futures = [producer.send(topic, key=f"k{i}".encode(), value=f"after-{i}".encode()) for i in range(50)]
    for future in futures:
        future.get(timeout=60)
    producer.close()

    got = consume(settings, topic, expect=100, timeout=90)
    values = sorted(r.value.decode() for r in got)
    assert values == sorted([f"before-{i}" for i in range(50)] + [f"after-{i}" for i in range(50)])

    # down after a crash still stops the nodes that are left
    stopped = three_nodes.down()
    assert sorted(stopped) == [1, 3]
    assert three_nodes.status() == []


def _casehub(home: Path, port: int, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "CASEHUB_HOME": str(home), "CASEHUB_BROKER_PORT": str(port), **(env or {})}
    full_env.pop("CASEHUB_KAFKA_BOOTSTRAP", None)
    return subprocess.run([sys.executable, "-m", "casehub", "broker", *args], capture_output=True, text=True,
                          env=full_env, timeout=180, check=False)


def test_up_refuses_a_taken_port(tmp_path: Path) -> None:
    port = 29292
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = _casehub(tmp_path, port, "up")
    assert result.returncode == 1
    assert "error: port 29292 on 127.0.0.1 is already in use" in result.stderr
    assert "CASEHUB_BROKER_PORT" in result.stderr


def test_up_without_java_says_what_to_install(tmp_path: Path) -> None:
    result = _casehub(tmp_path, 29294, "up", env={"PATH": "/nonexistent", "JAVA_HOME": "/nonexistent"})
    assert result.returncode == 1
    assert "error: Java is not installed" in result.stderr


def test_half_dead_cluster_is_reported_and_down_cleans_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, broker_port=29392, broker_heap="384m")
    cluster = LocalCluster(settings, nodes=3)
    cluster.up(timeout=180)
    try:
        cluster.kill_node(3)
        result = _casehub(tmp_path, 29392, "up")
        assert result.returncode == 1
        assert "half-dead (2 of 3 nodes running)" in result.stderr
        assert "casehub broker down" in result.stderr

        down = _casehub(tmp_path, 29392, "down")
        assert down.returncode == 0, down.stderr
        assert "stopped 2 node(s)" in down.stdout
        assert cluster.status() == []
    finally:
        cluster.down(purge=True)


def test_insecure_is_explicit_warned_about_and_kept_for_the_data_it_made(tmp_path: Path) -> None:
    port = 29492
    try:
        insecure = _casehub(tmp_path, port, "up", "--insecure")
        assert insecure.returncode == 0, insecure.stderr[-2000:]
        assert "warning: --insecure: PLAINTEXT listeners without authentication or ACLs" in insecure.stderr
        assert "INSECURE" in insecure.stdout
        plaintext = KafkaAdminClient(bootstrap_servers=[f"127.0.0.1:{port}"], security_protocol="PLAINTEXT")
        assert len(plaintext.describe_cluster()["brokers"]) == 1
        plaintext.close()
        _casehub(tmp_path, port, "down")
        # the data was made insecure: a secure start on it says what to do, in one line
        secure = _casehub(tmp_path, port, "up")
        assert secure.returncode == 1
        assert secure.stderr.strip().startswith("error: the cluster data in") and "--purge" in secure.stderr
    finally:
        _casehub(tmp_path, port, "down", "--purge")


@pytest.mark.cluster
def test_up_after_a_cluster_of_another_size_adapts_or_says_what_to_do_at_once(tmp_path: Path) -> None:
    port = 29592
    try:
        assert _casehub(tmp_path, port, "up", "--nodes", "3").returncode == 0
        _casehub(tmp_path, port, "down")
        started = time.monotonic()
        refused = _casehub(tmp_path, port, "up", "--nodes", "1")
        assert time.monotonic() - started < 20  # no 120 s wait for a quorum that cannot form
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines()[-1].startswith("error: the cluster data in")
        assert "made for 3 node(s), not 1" in refused.stderr and "--nodes 3" in refused.stderr and "--purge" in refused.stderr
        assert " ERROR " not in refused.stderr and '"level": "error"' not in refused.stderr

        adapted = _casehub(tmp_path, port, "up")  # no --nodes: the size the data was made for
        assert adapted.returncode == 0, adapted.stderr[-2000:]
        assert "kafka up: 3 node(s)" in adapted.stdout
        assert '"level": "error"' not in adapted.stderr  # waiting for starting nodes is not an error
    finally:
        _casehub(tmp_path, port, "down", "--purge")


def test_cluster_ids_never_start_with_a_dash_the_storage_tool_would_read_as_an_option() -> None:
    from casehub.broker.cluster import _new_cluster_id

    ids = [_new_cluster_id() for _ in range(3000)]
    assert not [i for i in ids if i.startswith("-")] and len(set(ids)) == len(ids)
