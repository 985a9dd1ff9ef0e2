"""With one of three brokers down the worker keeps delivering, exactly once, and catches up when the broker returns."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from casehub.access.apply import apply_access
from casehub.broker.cluster import LocalCluster
from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from casehub.registry import parse_registry
from tests.streams.conftest import write_registry
from tests.streams.harness import TAMBON, Worker, publish, read_until, report, with_ids

# a port range of its own, next to the session's broker (several sessions run their own brokers side by side)
LOSS_PORT = int(os.environ.get("CASEHUB_BROKER_PORT", "29092")) + 800
WAIT = 120.0


@pytest.fixture
def three_nodes(workdir: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(Settings(home=workdir / "kafka", broker_port=LOSS_PORT, broker_heap="384m"), nodes=3)
    cluster.up(timeout=180)
    yield cluster
    cluster.down(purge=True)


def _ids(records: list[Any]) -> Counter[str]:
    return Counter((dict(r.headers).get("ce_id") or b"").decode() for r in records)


def _java_hash(text: str) -> int:
    """Java's ``String.hashCode`` of an ASCII string, as a signed 32-bit int."""
    found = 0
    for char in text:
        found = (31 * found + ord(char)) & 0xFFFFFFFF
    return found - (1 << 32) if found >= 1 << 31 else found


def _group_coordinator(kafka: Settings, group: str) -> int:
    """The node that coordinates ``group``: the leader of its ``__consumer_offsets`` partition (as Kafka picks it)."""
    admin = KafkaAdminClient(**connection(kafka, "admin").kafka_python())
    try:
        (described,) = admin.describe_topics(["__consumer_offsets"])
    finally:
        admin.close()
    partition = (_java_hash(group) & 0x7FFFFFFF) % len(described["partitions"])
    return int(next(p["leader_id"] for p in described["partitions"] if p["partition_index"] == partition))


@pytest.mark.cluster
@pytest.mark.timeout(900)
def test_a_broker_lost_and_back_stops_no_delivery_and_duplicates_none(three_nodes: LocalCluster, workdir: Path) -> None:
    kafka = three_nodes.settings.model_copy(update={"kafka_bootstrap": three_nodes.bootstrap})
    path, lao, _ = write_registry(workdir / "partners.yaml", "t" + workdir.name[:8])
    registry = parse_registry(path.read_text(), source=str(path))
    apply_topics(kafka, registry)
    apply_access(kafka, registry)
    worker = Worker(kafka, workdir, path, env_extra={
        "CASEHUB_HOME": str(kafka.home), "CASEHUB_BROKER_PORT": str(LOSS_PORT),
    })
    outbound = [topics.outbound("pso-84"), topics.outbound(f"tc-{TAMBON}"), topics.outbound(lao)]
    started = time.time() - 5
    sent: set[str] = set()

    def send_and_expect(count: int) -> None:
        events = [report() for _ in range(count)]
        publish(kafka, lao, events)
        sent.update(e.id for e in events)
        found = read_until(kafka, outbound, since=started, timeout=WAIT, settle=3.0,
                           done=lambda rs: len(with_ids(rs, sent)) >= len(sent) * len(outbound))
        for topic in outbound:
            got = _ids(with_ids([r for r in found if r.topic == topic], sent))
            assert set(got) == sent, f"{topic}: {len(sent - set(got))} of {len(sent)} missing"
            assert max(got.values()) == 1, f"{topic}: duplicates {[i for i, n in got.items() if n > 1]}"

    worker.start(wait_ready=WAIT)
    try:
        send_and_expect(10)
        # the worker group's coordinator: heartbeats and commits move to another node, partitions lose leaders
        lost = _group_coordinator(kafka, worker.worker_id)
        three_nodes.kill_node(lost)
        send_and_expect(10)
        assert worker.process is not None and worker.process.poll() is None, worker.log_text()[-3000:]

        three_nodes.restart_node(lost)
        send_and_expect(10)
        assert worker.process is not None and worker.process.poll() is None, worker.log_text()[-3000:]
        log = worker.log_text()
        assert "ProducerFenced" not in log and "worker stopped after a failure" not in log
    finally:
        assert worker.stop() == 0, worker.log_text()[-3000:]
