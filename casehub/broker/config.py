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
    mtls_port: int
    data_dir: Path
    log_dir: Path
    config_file: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    @property
    def mtls_bootstrap(self) -> str:
        return f"127.0.0.1:{self.mtls_port}"


@dataclass(frozen=True)
class Security:
    """How the cluster's listeners authenticate: SASL_SSL + SCRAM and an mTLS listener, or PLAINTEXT (--insecure)."""

    secure: bool
    keystore: Path | None = None
    truststore: Path | None = None
    admin_user: str = "casehub-admin"
    admin_password: str = ""

    @property
    def client_protocol(self) -> str:
        return "SASL_SSL" if self.secure else "PLAINTEXT"


MAX_NODES = 3


def plan_nodes(home: Path, base_port: int, nodes: int) -> list[NodeSpec]:
    """Ports: node i listens on base+2i (clients, SASL_SSL), base+2i+1 (controller quorum), base+6+i (clients, mTLS)."""
    specs = []
    for index in range(nodes):
        node_id = index + 1
        specs.append(
            NodeSpec(
                node_id=node_id,
                broker_port=base_port + 2 * index,
                controller_port=base_port + 2 * index + 1,
                mtls_port=base_port + 2 * MAX_NODES + index,
                data_dir=home / "data" / f"node-{node_id}",
                log_dir=home / "logs" / f"node-{node_id}",
                config_file=home / "config" / f"node-{node_id}.properties",
            )
        )
    return specs


def _jaas_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def listener_properties(node: NodeSpec, security: Security) -> dict[str, object]:
    """Listeners, TLS, SASL and the authorizer; PLAINTEXT everywhere only when ``security.secure`` is off."""
    if not security.secure:
        return {
            "listeners": f"PLAINTEXT://127.0.0.1:{node.broker_port},CONTROLLER://127.0.0.1:{node.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.broker_port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
        }
    user, password = _jaas_value(security.admin_user), _jaas_value(security.admin_password)
    return {
        "listeners": f"CLIENT://127.0.0.1:{node.broker_port},CONTROLLER://127.0.0.1:{node.controller_port},"
        f"MTLS://127.0.0.1:{node.mtls_port}",
        "advertised.listeners": f"CLIENT://127.0.0.1:{node.broker_port},MTLS://127.0.0.1:{node.mtls_port}",
        "listener.security.protocol.map": "CLIENT:SASL_SSL,CONTROLLER:SASL_SSL,MTLS:SSL",
        "inter.broker.listener.name": "CLIENT",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.client.scram-sha-512.sasl.jaas.config":
            f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{user}" password="{password}";',
        # SCRAM cannot authenticate controllers (their metadata holds the SCRAM users): PLAIN, over TLS
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config":
            f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{user}" password="{password}" '
            f'user_{user}="{password}";',
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(security.keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(security.truststore),
        "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
        "listener.name.mtls.ssl.client.auth": "required",
        # a partner's client certificate CN=<org> becomes principal User:<org>; any other subject keeps its full DN
        "ssl.principal.mapping.rules": "RULE:^CN=([a-z0-9-]+)$/$1/,DEFAULT",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{security.admin_user}",
    }


def render_properties(node: NodeSpec, all_nodes: list[NodeSpec], security: Security) -> str:
    """server.properties for ``node``; one node gets replication 1 so transactions work, three get 3 with min ISR 2."""
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in all_nodes)
    replication = 1 if len(all_nodes) == 1 else 3
    min_isr = 1 if len(all_nodes) == 1 else 2
    settings = {
        "process.roles": "broker,controller",
        "node.id": node.node_id,
        "controller.quorum.voters": voters,
        **listener_properties(node, security),
        "controller.listener.names": "CONTROLLER",
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
    if len(all_nodes) > 1:
        # a lost node's partitions (and the group and transaction coordinators on it) move once the controller
        # fences it: after 9 s by default, longer than a worker's heartbeat can fail before its session expires
        # (a rebalance on top of the outage); 4 s keeps the move well inside it
        settings |= {"broker.session.timeout.ms": 4000, "broker.heartbeat.interval.ms": 1000}
    return "".join(f"{key}={value}\n" for key, value in settings.items())
