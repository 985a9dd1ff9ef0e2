"""The local cluster's server.properties: replication and failover follow the number of nodes."""

from __future__ import annotations

from pathlib import Path

from casehub.broker.config import NodeSpec, Security, render_properties


def _nodes(tmp_path: Path, count: int) -> list[NodeSpec]:
    return [NodeSpec(i, 20000 + 2 * i, 20001 + 2 * i, 20100 + i, tmp_path / f"data-{i}", tmp_path / f"logs-{i}",
                     tmp_path / f"node-{i}.properties") for i in range(1, count + 1)]


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_three_nodes_replicate_three_ways_and_fence_a_lost_node_within_a_workers_session(tmp_path: Path) -> None:
    nodes = _nodes(tmp_path, 3)
    found = _properties(render_properties(nodes[0], nodes, Security(secure=False)))
    assert found["default.replication.factor"] == "3" and found["min.insync.replicas"] == "2"
    assert found["transaction.state.log.min.isr"] == "2"
    # the coordinators move off a lost node well before a worker's 10 s session expires
    assert int(found["broker.session.timeout.ms"]) <= 5000
    assert int(found["broker.heartbeat.interval.ms"]) * 3 <= int(found["broker.session.timeout.ms"])


def test_one_node_keeps_kafkas_own_failover_settings(tmp_path: Path) -> None:
    nodes = _nodes(tmp_path, 1)
    found = _properties(render_properties(nodes[0], nodes, Security(secure=False)))
    assert found["default.replication.factor"] == "1" and found["min.insync.replicas"] == "1"
    assert "broker.session.timeout.ms" not in found
