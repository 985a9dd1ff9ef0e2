"""KRaft node configuration for a local 1- or 3-node cluster on loopback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LOG4J2 = """status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = WARN
logger.coordinator.name = org.apache.kafka.coordinator
logger.coordinator.level = WARN
logger.log.name = kafka.log
logger.log.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
"""


@dataclass(frozen=True)
class NodeSpec:
    """One KRaft node: its id, ports and folders."""

    node_id: int
    broker_port: int
    controller_port: int
    data_dir: Path
    log_dir: Path
    config_file: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_port}"


def plan_nodes(home: Path, base_port: int, nodes: int) -> list[NodeSpec]:
    """Ports: node i listens on base+2i (clients) and base+2i+1 (controller quorum)."""
    specs = []
    for index in range(nodes):
        node_id = index + 1
        specs.append(
            NodeSpec(
                node_id=node_id,
                broker_port=base_port + 2 * index,
                controller_port=base_port + 2 * index + 1,
                data_dir=home / "data" / f"node-{node_id}",
                log_dir=home / "logs" / f"node-{node_id}",
                config_file=home / "config" / f"node-{node_id}.properties",
            )
        )
    return specs


def render_properties(node: NodeSpec, all_nodes: list[NodeSpec]) -> str:
    """server.properties for ``node``; one node gets replication 1 so transactions work, three get 3 with min ISR 2."""
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in all_nodes)
    replication = 1 if len(all_nodes) == 1 else 3
    min_isr = 1 if len(all_nodes) == 1 else 2
    settings = {
        "process.roles": "broker,controller",
        "node.id": node.node_id,
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://127.0.0.1:{node.broker_port},CONTROLLER://127.0.0.1:{node.controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.broker_port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(node.data_dir.resolve()),
        "num.partitions": 1,
        "default.replication.factor": replication,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replication,
        "offsets.topic.num.partitions": 10,
        "transaction.state.log.replication.factor": replication,
        "transaction.state.log.min.isr": min_isr,
        "transaction.state.log.num.partitions": 10,
        "share.coordinator.state.topic.replication.factor": replication,
        "share.coordinator.state.topic.min.isr": min_isr,
        "group.initial.rebalance.delay.ms": 0,
        # topics are created on purpose (`casehub topics apply`, faust's declared topics), never by a typo
        "auto.create.topics.enable": "false",
        "log.retention.check.interval.ms": 60000,
        "log.cleaner.backoff.ms": 2000,
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": 10000,
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())
