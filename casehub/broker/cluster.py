"""Start, watch and stop a local KRaft cluster of 1 or 3 nodes; state is kept in ``<home>/broker/state.json``."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casehub.access.tls import ensure_broker_keystore, tls_files
from casehub.broker.config import LOG4J2, NodeSpec, Security, plan_nodes, render_properties
from casehub.broker.exceptions import ClusterHalfDead, ClusterSizeMismatch, PortInUse, SecurityMismatch, StartFailed
from casehub.broker.runtime import KAFKA_VERSION, ensure_jars, java_binary
from casehub.core.kafka_connection import (
    connection,
    local_security_file,
    principal_of,
    read_local_password,
    write_local_password,
)
from casehub.core.logging import get_logger
from casehub.core.settings import Settings

log = get_logger(__name__)


@dataclass
class NodeStatus:
    node_id: int
    pid: int
    bootstrap: str
    alive: bool


EPHEMERAL_PORTS = (32768, 60999)
"""Linux's default ip_local_port_range: a listening port here can be taken by a reconnecting client's own socket."""


def _pid_alive(pid: int, config_file: str) -> bool:
    """True if ``pid`` is running and is the Kafka node started with ``config_file`` (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    except (OSError, IndexError):
        return False
    return b"kafka.Kafka" in cmdline and config_file.encode() in cmdline


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _new_cluster_id() -> str:
    """A Kafka cluster id: a random UUID in URL-safe base64 without padding (as kafka-storage random-uuid).

    Like Kafka's own Uuid.randomUuid, never one that starts with '-': the storage tool would read it as an option
    (1 start in 64 failed with "argument --cluster-id/-t: expected one argument").
    """
    while True:
        found = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not found.startswith("-"):
            return found


class LocalCluster:
    """A 1- or 3-node Kafka cluster on loopback, managed by process id."""

    def __init__(self, settings: Settings, nodes: int | None = None, *, insecure: bool = False) -> None:
        self.settings = settings
        self.insecure = insecure
        self.home = settings.home / "broker"
        self.state_file = self.home / "state.json"
        self.bootstrap_file = self.home / "bootstrap"
        self.security_file = local_security_file(settings.home)
        self.formatted_as_file = self.home / "formatted-as"
        recorded = self._read_state()
        made_for = self._formatted_as()[1]
        count = nodes or (len(recorded["nodes"]) if recorded else made_for or settings.broker_nodes)
        if made_for and count != made_for:
            raise ClusterSizeMismatch(
                f"the cluster data in {self.home} was made for {made_for} node(s), not {count}",
                hint=f"run `casehub broker up --nodes {made_for}`, or `casehub broker down --purge` to start afresh",
            )
        self.nodes = plan_nodes(self.home, settings.broker_port, count)

    def _formatted_as(self) -> tuple[str, int | None]:
        """The security mode and node count the data in this home was formatted for (``formatted-as``: "MODE N").

        Homes formatted before that file existed were PLAINTEXT; their node count is that of their data folders.
        """
        if not self.formatted_as_file.exists():
            formatted = sorted(self.home.glob("data/node-*/meta.properties"))
            return "PLAINTEXT", len(formatted) or None
        mode, _, nodes = self.formatted_as_file.read_text().strip().partition(" ")
        return mode, int(nodes) if nodes.isdigit() else None

    # ---- state -------------------------------------------------------------------------
    def _read_state(self) -> dict[str, Any] | None:
        if not self.state_file.exists():
            return None
        data: dict[str, Any] = json.loads(self.state_file.read_text())
        return data

    def _write_state(self, pids: dict[int, int]) -> None:
        state = {
            "kafka_version": KAFKA_VERSION,
            "bootstrap": self.bootstrap,
            "nodes": [
                {"node_id": n.node_id, "pid": pids[n.node_id], "bootstrap": n.bootstrap, "config": str(n.config_file.resolve())}
                for n in self.nodes
            ],
        }
        self.state_file.write_text(json.dumps(state, indent=2))
        self.bootstrap_file.write_text(self.bootstrap)

    @property
    def bootstrap(self) -> str:
        return ",".join(n.bootstrap for n in self.nodes)

    @property
    def mtls_bootstrap(self) -> str:
        return ",".join(n.mtls_bootstrap for n in self.nodes)

    def _security(self) -> Security:
        """The development CA and broker certificate, and the admin super user's password (made once, then reused)."""
        if self.insecure:
            return Security(secure=False)
        files = tls_files(self.settings.home)
        keystore = ensure_broker_keystore(files)
        admin = principal_of("admin")
        password = read_local_password(self.settings, admin)
        if password is None:
            password = secrets.token_urlsafe(24)
            write_local_password(self.settings, admin, password)
        return Security(secure=True, keystore=keystore.resolve(), truststore=files.ca_cert.resolve(),
                        admin_user=admin, admin_password=password)

    def _write_security(self, security: Security) -> None:
        self.security_file.parent.mkdir(parents=True, exist_ok=True)
        self.security_file.write_text(json.dumps({
            "security_protocol": security.client_protocol,
            "sasl_mechanism": "SCRAM-SHA-512" if security.secure else None,
            "mtls_bootstrap": self.mtls_bootstrap if security.secure else None,
        }))

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    def status(self) -> list[NodeStatus]:
        """Every node this cluster started, and whether its process still runs."""
        state = self._read_state()
        if not state:
            return []
        return [
            NodeStatus(n["node_id"], n["pid"], n["bootstrap"], _pid_alive(n["pid"], n["config"]))
            for n in state["nodes"]
        ]

    # ---- up ----------------------------------------------------------------------------
    def up(self, timeout: float = 120.0) -> str:
        """Start the cluster (or find it running) and return its bootstrap address."""
        current = self.status()
        if current:
            alive = [n for n in current if n.alive]
            if len(alive) == len(current) and self._answers(timeout=15):
                log.info("cluster already running", bootstrap=self.bootstrap)
                return self.bootstrap
            if alive:
                raise ClusterHalfDead(
                    f"a previous cluster in {self.home} is half-dead ({len(alive)} of {len(current)} nodes running)",
                    hint="run `casehub broker down` to clean it up, then `casehub broker up`",
                )
            self.state_file.unlink(missing_ok=True)
        for node in self.nodes:
            for port in (node.broker_port, node.controller_port, node.mtls_port):
                if EPHEMERAL_PORTS[0] <= port <= EPHEMERAL_PORTS[1]:
                    log.warning("port in the ephemeral range: a client's outgoing connection may take it while a node "
                                "restarts (set CASEHUB_BROKER_PORT below 32768)", port=port)
                if not _port_free(port):
                    raise PortInUse(
                        f"port {port} on 127.0.0.1 is already in use",
                        hint="stop what uses it, or choose other ports with CASEHUB_BROKER_PORT",
                    )
        java = java_binary()
        libs = ensure_jars(self.settings.cache_dir)
        classpath = f"{libs}/*"
        security = self._security()
        self._prepare_files(security)
        self._format(java, classpath, security)
        self._write_security(security)
        procs = {node.node_id: self._start_node(java, classpath, node) for node in self.nodes}
        self._write_state({node_id: proc.pid for node_id, proc in procs.items()})
        try:
            self._wait_ready(procs, timeout)
        except StartFailed:
            self.down()
            raise
        log.info("cluster up", bootstrap=self.bootstrap, nodes=len(self.nodes))
        return self.bootstrap

    def _prepare_files(self, security: Security) -> None:
        (self.home / "config").mkdir(parents=True, exist_ok=True)
        (self.home / "config" / "log4j2.properties").write_text(LOG4J2)
        for node in self.nodes:
            node.data_dir.mkdir(parents=True, exist_ok=True)
            node.log_dir.mkdir(parents=True, exist_ok=True)
            # the file holds the admin password: readable by this user only
            node.config_file.touch(mode=0o600, exist_ok=True)
            node.config_file.chmod(0o600)
            node.config_file.write_text(render_properties(node, self.nodes, security))

    def _format(self, java: str, classpath: str, security: Security) -> None:
        id_file = self.home / "cluster-id"
        formatted = all((n.data_dir / "meta.properties").exists() for n in self.nodes)
        mode = security.client_protocol
        if formatted and id_file.exists():
            before = self._formatted_as()[0]
            if before != mode:
                raise SecurityMismatch(
                    f"the cluster data in {self.home} was made {before}, and this start asks for {mode}",
                    hint="keep the flag it was made with, or start afresh with `casehub broker down --purge`",
                )
        else:
            for node in self.nodes:
                for child in node.data_dir.iterdir():
                    _remove(child)
            id_file.write_text(_new_cluster_id())
        cluster_id = id_file.read_text().strip()
        scram = ["--add-scram", f"SCRAM-SHA-512=[name={security.admin_user},password={security.admin_password}]"] if security.secure else []
        procs = [
            subprocess.Popen(
                [java, "-Xmx256m", "-cp", classpath, f"-Dlog4j2.configurationFile={self.home / 'config' / 'log4j2.properties'}",
                 "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(node.config_file), "--ignore-formatted",
                 *scram],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            for node in self.nodes
        ]
        for proc in procs:
            out, _ = proc.communicate(timeout=120)
            if proc.returncode != 0:
                raise StartFailed(f"formatting KRaft storage failed: {out.strip().splitlines()[-1:]}", hint=f"see {self.home}")
        self.formatted_as_file.write_text(f"{mode} {len(self.nodes)}")

    def _start_node(self, java: str, classpath: str, node: NodeSpec) -> subprocess.Popen[bytes]:
        out = (node.log_dir / "server.log").open("ab")
        proc = subprocess.Popen(
            [java, f"-Xmx{self.settings.broker_heap}", f"-Xms{self.settings.broker_heap}", "-XX:+UseG1GC",
             "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={self.home / 'config' / 'log4j2.properties'}",
             f"-Dkafka.logs.dir={node.log_dir}", "-cp", classpath, "kafka.Kafka", str(node.config_file.resolve())],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        out.close()
        return proc

    def _wait_ready(self, procs: dict[int, subprocess.Popen[bytes]], timeout: float) -> None:
        # our own children: poll() is exact, whereas /proc/<pid>/cmdline is briefly empty while the java launcher starts
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [node_id for node_id, proc in procs.items() if proc.poll() is not None]
            if dead:
                tail = _tail(self.home / "logs" / f"node-{dead[0]}" / "server.log")
                raise StartFailed(f"node {dead[0]} exited during start: {tail}", hint=f"see {self.logs_dir}")
            if self._answers(timeout=5):
                return
            time.sleep(0.5)
        raise StartFailed(f"the cluster did not answer within {timeout:.0f}s", hint=f"see {self.logs_dir}")

    def _answers(self, timeout: float) -> bool:
        """True when every node is registered and the cluster answers a metadata request."""
        # a node that is still starting refuses connections: expected here, so kafka-python's ERROR lines stay quiet
        kafka_log = logging.getLogger("kafka")
        previous = kafka_log.level
        kafka_log.setLevel(logging.CRITICAL)
        try:
            return self._describe_answers(timeout)
        finally:
            kafka_log.setLevel(previous)

    def _describe_answers(self, timeout: float) -> bool:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        try:
            config = connection(self.settings.model_copy(update={"kafka_bootstrap": self.bootstrap}), "admin").kafka_python()
            admin = KafkaAdminClient(**config, request_timeout_ms=int(timeout * 1000), client_id="casehub-broker-probe")
        except (KafkaError, ValueError, OSError):
            return False
        try:
            brokers = admin.describe_cluster().get("brokers", [])
            return len(brokers) == len(self.nodes)
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()

    # ---- down --------------------------------------------------------------------------
    def down(self, purge: bool = False, timeout: float = 30.0) -> list[int]:
        """Stop exactly the processes this cluster started (by pid); with ``purge``, delete its data too."""
        state = self._read_state()
        stopped: list[int] = []
        if state:
            running = [n for n in state["nodes"] if _pid_alive(n["pid"], n["config"])]
            for node in running:
                os.kill(node["pid"], signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and any(_pid_alive(n["pid"], n["config"]) for n in running):
                time.sleep(0.2)
            for node in running:
                if _pid_alive(node["pid"], node["config"]):
                    os.kill(node["pid"], signal.SIGKILL)
                stopped.append(node["node_id"])
            self.state_file.unlink(missing_ok=True)
        self.bootstrap_file.unlink(missing_ok=True)
        self.security_file.unlink(missing_ok=True)
        if purge:
            for sub in ("data", "config", "cluster-id", "formatted-as"):
                _remove(self.home / sub)
        return stopped

    def kill_node(self, node_id: int) -> None:
        """SIGKILL one node, as a crash would (used by failure tests)."""
        for node in self.status():
            if node.node_id == node_id and node.alive:
                os.kill(node.pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and any(n.alive for n in self.status() if n.node_id == node_id):
                    time.sleep(0.1)

    def restart_node(self, node_id: int, timeout: float = 120.0) -> None:
        """Start a node that died (``kill_node``, a crash) again on its own data; wait until every node answers."""
        state = self._read_state()
        if not state:
            raise StartFailed(f"no cluster of {self.home} is running", hint="start it with `casehub broker up`")
        if any(n.alive for n in self.status() if n.node_id == node_id):
            return
        node = next(n for n in self.nodes if n.node_id == node_id)
        server_log = node.log_dir / "server.log"
        offset = server_log.stat().st_size if server_log.exists() else 0
        process = self._start_node(java_binary(), f"{ensure_jars(self.settings.cache_dir)}/*", node)
        self._write_state({**{n["node_id"]: n["pid"] for n in state["nodes"]}, node_id: process.pid})
        # until the dead node is fenced the cluster still lists it: only the node's own log says it is serving again
        deadline = time.monotonic() + timeout
        while b"Kafka Server started" not in _read_from(server_log, offset):
            if process.poll() is not None or time.monotonic() > deadline:
                raise StartFailed(f"node {node_id} did not start again: {_tail(server_log)}", hint=f"see {self.logs_dir}")
            time.sleep(0.2)
        self._wait_ready({node_id: process}, max(1.0, deadline - time.monotonic()))


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def _read_from(path: Path, offset: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read()


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    errors = [line for line in text if " ERROR " in line or "Exception" in line]
    return " | ".join((errors or text)[-lines:])
