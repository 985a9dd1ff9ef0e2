"""The gateway through a whole-cluster outage, on a cluster of its own: a bounded 503 with Retry-After while Kafka
is down, /healthz that tells the truth, and recovery without a restart once the cluster is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from casehub.access.apply import apply_access
from casehub.broker.cluster import LocalCluster
from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from tests.connectors.gateway.conftest import Orgs, write_registry
from tests.connectors.gateway.server import GatewayServer, load
from tests.connectors.gateway.test_events import plain as plain_event
from tests.kafka_helpers import consume

OUTAGE_PORT = 29692


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(Settings(home=tmp_path / "kafka", broker_port=OUTAGE_PORT, broker_heap="384m"), nodes=1)
    cluster.up(timeout=120)
    yield cluster
    cluster.down(purge=True)


def _provisioned(cluster: LocalCluster, tmp_path: Path) -> tuple[Settings, Orgs, GatewayServer]:
    """The cluster's topics and ACLs for a registry of its own, and a gateway for it (not started)."""
    kafka = cluster.settings.model_copy(update={"kafka_bootstrap": cluster.bootstrap})
    registry_path = tmp_path / "partners.yaml"
    orgs = write_registry(registry_path)
    registry = load(registry_path)
    apply_topics(kafka, registry)
    apply_access(kafka, registry)
    return kafka, orgs, GatewayServer(kafka.model_copy(update={"registry_path": registry_path}), registry)


def test_a_cluster_outage_gets_a_quick_503_and_the_gateway_recovers_by_itself(own_cluster: LocalCluster,
                                                                               tmp_path: Path) -> None:
    kafka, orgs, gateway = _provisioned(own_cluster, tmp_path)
    gateway.start()
    try:
        with gateway.client(orgs.lao) as client:
            before = plain_event()
            assert client.post("/v1/events", json=before).status_code == 202

            own_cluster.down()
            started = time.monotonic()
            during = client.post("/v1/events", json=plain_event())
            took = time.monotonic() - started
            assert during.status_code == 503, during.text
            assert took < 6.0, took
            assert during.headers["Retry-After"].isdigit()
            health = client.get("/healthz")
            assert health.status_code == 503 and health.json()["status"] == "unavailable"

            own_cluster.up(timeout=120)
            after = plain_event()
            deadline = time.monotonic() + 90
            answer = client.post("/v1/events", json=after)
            while answer.status_code != 202 and time.monotonic() < deadline:
                time.sleep(1.0)
                answer = client.post("/v1/events", json=after)  # a partner retries the same event
            assert answer.status_code == 202, answer.text
            assert client.get("/healthz").json()["last_produce_ok"] is True

        written = consume(kafka, topics.inbound(orgs.lao), expect=2, timeout=30, settle=2.0)
        ids = [r.headers for r in written]
        accepted = {dict(h).get("ce_id", b"").decode() for h in ids}
        assert {before["id"], after["id"]} <= accepted  # nothing answered 202 is lost
    finally:
        gateway.stop()


def test_a_gateway_started_while_the_cluster_is_down_waits_for_it_instead_of_exiting(own_cluster: LocalCluster,
                                                                                    tmp_path: Path) -> None:
    kafka, orgs, gateway = _provisioned(own_cluster, tmp_path)
    own_cluster.down()

    def come_back() -> None:
        time.sleep(3.0)
        own_cluster.up(timeout=120)

    comeback = threading.Thread(target=come_back, daemon=True)
    comeback.start()
    try:
        gateway.start(ready_timeout=180)  # the cluster comes back while the gateway is starting
        with gateway.client(orgs.lao) as client:
            event = plain_event()
            assert client.post("/v1/events", json=event).status_code == 202
        written = consume(kafka, topics.inbound(orgs.lao), expect=1, timeout=30)
        assert dict(written[0].headers)["ce_id"].decode() == event["id"]
    finally:
        comeback.join(timeout=150)
        gateway.stop()
