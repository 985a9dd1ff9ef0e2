"""The chaos run's moving parts: a 3-node secured cluster in its own home, supervised workers, steady traffic."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from stdnum.th import pin

from casehub.access.apply import apply_access
from casehub.broker.cluster import EPHEMERAL_PORTS, LocalCluster
from casehub.core import topics
from casehub.core.errors import BrokerError
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from casehub.registry import Registry, parse_registry
from casehub.schemas.codec import encode_binary
from casehub.schemas.models import parse_event

ROOT = Path(__file__).resolve().parents[1]
CASEHUB = Path(sys.executable).with_name("casehub")
READY_LINE = '"worker ready"'  # the worker logs it when its tables are recovered and its partitions assigned
TAMBONS = ["840502", "840503", "840101", "840102", "500101", "500102", "500103", "500104"]
CATEGORIES = ["family_violence", "children_youth", "elderly", "disability", "poverty", "homeless_destitute"]


def free_port_block(count: int, low: int = 20000, high: int = EPHEMERAL_PORTS[0] - 1) -> int:
    """The first port of ``count`` consecutive free ports in [low, high]: below the ephemeral range, where a
    reconnecting client's own socket cannot take a restarting broker's port."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high - count)
        if all(_port_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports between {low} and {high}")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- the cluster and what it carries ------------------------------------------------------------------
@dataclass(frozen=True)
class Partners:
    """The run's partners: one sender, and recipients that each receive every event it sends."""

    sender: str
    recipients: tuple[str, ...]


def partners_of(run: str) -> Partners:
    return Partners(sender=f"lao-s{run}", recipients=(f"hosp-{run}", f"police-{run}", f"lao-r{run}"))


def registry_text(partners: Partners) -> str:
    """A registry in which every recipient subscribes to everything in the tambons the traffic uses.

    All at the full level: a pseudonymised partner's copy carries an event reference keyed to it, not the event id.
    """
    def entry(org: str, kind: str, disclosure: str, subscribed: bool) -> dict[str, Any]:
        return {"id": org, "kind": kind, "name": {"th": org, "en": org}, "jurisdiction": {"tambons": TAMBONS},
                "disclosure": disclosure, "partitions": 2,
                "subscriptions": [{"event_types": ["*"], "issue_categories": ["*"]}] if subscribed else []}

    kinds = {"hosp": "hospital", "police": "police", "lao": "lao"}
    found = [entry(partners.sender, "lao", "full", False)]
    found += [entry(org, kinds[org.split("-", 1)[0]], "full", True) for org in partners.recipients]
    return json.dumps({"version": 1, "partners": found}, ensure_ascii=False)


@dataclass
class Hub:
    """A running 3-node cluster in its own home, provisioned for one run's registry."""

    cluster: LocalCluster
    settings: Settings
    registry: Registry
    registry_path: Path
    partners: Partners
    folder: Path

    def down(self, purge: bool = True) -> None:
        self.cluster.down(purge=purge)


def start_hub(home: Path, port: int, *, heap: str = "1g") -> Hub:
    """Start (or find) a 3-node secured cluster in ``home`` at ``port``; create the run's topics, users and ACLs."""
    home = home.resolve()
    # nothing from another home's environment (CASEHUB_KAFKA_*, replication): this cluster's own files only
    settings = Settings(home=home, broker_port=port, broker_nodes=3, broker_heap=heap, kafka_bootstrap=None,
                        kafka_ssl_cafile=None, kafka_credentials_dir=None, kafka_sasl_username=None,
                        kafka_sasl_password=None, topic_replication=None)
    cluster = LocalCluster(settings, nodes=3)
    cluster.up(timeout=240)
    try:
        return _provision(cluster, settings.model_copy(update={"kafka_bootstrap": cluster.bootstrap}), home)
    except BaseException:
        cluster.down(purge=True)
        raise


def _provision(cluster: LocalCluster, settings: Settings, home: Path) -> Hub:
    """The run's own registry (its orgs named after a fresh run id), its topics, users and ACLs."""
    run = "c" + uuid.uuid4().hex[:8]
    folder = home / "chaos" / run
    folder.mkdir(parents=True, exist_ok=True)
    partners = partners_of(run)
    registry_path = folder / "partners.yaml"
    registry_path.write_text(registry_text(partners))
    registry = parse_registry(registry_path.read_text(), source=str(registry_path))
    for attempt in range(1, 5):
        try:
            apply_topics(settings, registry)
            apply_access(settings, registry)
            break
        except BrokerError:
            # a node that has just joined is not yet in every broker's metadata (UnknownBrokerIdError): again shortly
            if attempt == 4:
                raise
            time.sleep(3)
    return Hub(cluster, settings, registry, registry_path, partners, folder)


# ---- workers under a supervisor -------------------------------------------------------------------------
@dataclass
class Start:
    """One start of a worker process, and when it said it was ready."""

    at: float
    log_offset: int
    ready_at: float | None = None
    exited_at: float | None = None
    exit_code: int | None = None


@dataclass
class SupervisedWorker:
    """One ``casehub worker`` process of the group, restarted at once whenever it exits."""

    name: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: list[Start] = field(default_factory=list)

    def spawn(self) -> Start:
        self.env["CASEHUB_WORKER_WEB_PORT"] = str(_free_port())  # a fresh port: the last one may be in TIME_WAIT
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([str(CASEHUB), "worker"], env=self.env, stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL)
        start = Start(at=time.time(), log_offset=offset)
        self.starts.append(start)
        return start

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def log_text(self) -> str:
        return self.log_since(0) if self.log_path.exists() else ""


@dataclass(frozen=True)
class Crash:
    """A worker process that exited without being killed by the run."""

    worker: str
    at: float
    exit_code: int | None
    log_tail: str


class Supervisor:
    """Starts the workers, restarts any that exits (as systemd would), SIGKILLs one on request, notes readiness."""

    def __init__(self, hub: Hub, count: int = 2) -> None:
        group = "casehub-" + hub.folder.name
        base = {k: v for k, v in os.environ.items() if not k.startswith("CASEHUB_")}  # nothing of another home
        self.workers = []
        for index in range(1, count + 1):
            name = f"w{index}"
            env = {**base, "CASEHUB_HOME": str(hub.settings.home), "CASEHUB_KAFKA_BOOTSTRAP": hub.cluster.bootstrap,
                   # static membership and standby tables are the worker's defaults for a group of this size
                   "CASEHUB_WORKER_ID": group, "CASEHUB_WORKER_GROUP_SIZE": str(count),
                   "CASEHUB_WORKER_METRICS_PORT": "0", "CASEHUB_WORKER_DATA_DIR": str(hub.folder / f"data-{name}"),
                   "CASEHUB_REGISTRY_PATH": str(hub.registry_path), "CASEHUB_LOG_LEVEL": "INFO"}
            self.workers.append(SupervisedWorker(name, env, hub.folder / f"worker-{name}.log"))
        self.crashes: list[Crash] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="chaos-supervisor", daemon=True)

    def start(self, ready_timeout: float = 180.0) -> None:
        """Start every worker and wait (bounded) until each has said it is ready."""
        for worker in self.workers:
            worker.spawn()
        self._thread.start()
        if not self.wait_ready(ready_timeout, fail_on_crash=True):
            raise RuntimeError(f"the workers were not ready within {ready_timeout:.0f} s; logs: "
                               + ", ".join(str(w.log_path) for w in self.workers))

    def wait_ready(self, timeout: float, *, fail_on_crash: bool = False) -> bool:
        """Wait (bounded) until the latest start of every worker has said it is ready; with ``fail_on_crash``, a
        worker that exits first is a setup the run cannot start from (its reason is raised), not a chaos finding."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if fail_on_crash and self.crashes:
                crash = self.crashes[0]
                self.stop(timeout=10)
                lines = crash.log_tail.strip().splitlines()
                raise RuntimeError(f"worker {crash.worker} exited ({crash.exit_code}) before it was ready: "
                                   f"{lines[-1] if lines else '(empty log)'}")
            if all(w.starts[-1].ready_at for w in self.workers):
                return True
            time.sleep(0.2)
        return False

    def kill(self, name: str) -> tuple[float, Start]:
        """SIGKILL worker ``name`` and start it again at once; returns when it was killed, and the new start."""
        worker = next(w for w in self.workers if w.name == name)
        with self._lock:
            assert worker.process is not None
            previous = worker.starts[-1]
            killed_at = time.time()
            worker.process.send_signal(signal.SIGKILL)
            previous.exit_code = worker.process.wait(timeout=30)
            previous.exited_at = time.time()
            return killed_at, worker.spawn()

    def _watch(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                for worker in self.workers:
                    self._check(worker)
            time.sleep(0.1)

    def _check(self, worker: SupervisedWorker) -> None:
        current = worker.starts[-1]
        if current.ready_at is None and READY_LINE in worker.log_since(current.log_offset):
            current.ready_at = time.time()
        if worker.process is None or worker.process.poll() is None:
            return
        current.exited_at, current.exit_code = time.time(), worker.process.returncode
        self.crashes.append(Crash(worker.name, current.exited_at, current.exit_code,
                                  worker.log_since(current.log_offset)[-3000:]))
        worker.spawn()

    def alive(self) -> bool:
        return all(w.process is not None and w.process.poll() is None for w in self.workers)

    def stop(self, timeout: float = 60.0) -> None:
        """Stop supervising, then SIGTERM every worker (SIGKILL after ``timeout``)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for worker in self.workers:
            if worker.process is not None and worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            if worker.process is None:
                continue
            try:
                worker.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=30)


# ---- traffic ----------------------------------------------------------------------------------------------
def _citizen_id(n: int) -> str:
    body = f"1{n:011d}"
    return body + pin.calc_check_digit(body)


class Traffic:
    """Valid ``case.reported`` events about distinct people, sent by the run's sender at a steady rate.

    Sent with acks=all by an idempotent producer; a send the cluster did not acknowledge (a broker lost
    mid-request) is sent again, as a partner would: the hub drops a repeated (source, id).
    """

    def __init__(self, hub: Hub, count: int, rate: float, *, seed: int = 7) -> None:
        self.settings = hub.settings
        self.topic = topics.inbound(hub.partners.sender)
        self.count, self.rate = count, rate
        self.random = random.Random(seed)
        self.template = json.loads((ROOT / "examples/events/case.reported.json").read_text())["data"]
        self.first_subject = random.Random().randrange(10**9, 9 * 10**10)  # people no earlier run reported
        self.events: list[dict[str, Any]] = []
        self.sent_at: dict[str, float] = {}
        self.acked: set[str] = set()
        self.resent = 0
        self._retry: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="chaos-traffic", daemon=True)
        self.finished = threading.Event()

    def event(self, n: int) -> dict[str, Any]:
        data = dict(self.template)
        age = self.random.choice([7, 15, 34, 52, 68, 81])
        data.update(id=f"chaos-{uuid.uuid4().hex[:20]}", occurred_at=(datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
                    issue_category=self.random.choice(CATEGORIES), location={"tambon_code": self.random.choice(TAMBONS)})
        data["subject"] = {**data["subject"], "citizen_id": _citizen_id(self.first_subject + n),
                           "birth_date": date(2026 - age, 3, 1).isoformat()}
        return data

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        producer = KafkaProducer(**connection(self.settings, "admin").kafka_python(), acks="all",
                                 enable_idempotence=True, linger_ms=5, request_timeout_ms=10_000,
                                 delivery_timeout_ms=30_000, retry_backoff_ms=200)
        try:
            started = time.time()
            for n in range(self.count):
                delay = started + n / self.rate - time.time()
                if delay > 0:
                    time.sleep(delay)
                data = self.event(n)
                self.events.append(data)
                self.sent_at[data["id"]] = time.time()
                self._send(producer, data["id"], encode_binary(parse_event(data), source="/partners/chaos",
                                                                    schema_base=self.settings.public_base_url()))
                self._resend_failed(producer)
            producer.flush(timeout=60)
            deadline = time.monotonic() + 120
            while len(self.acked) < len(self.sent_at) and time.monotonic() < deadline:
                self._resend_failed(producer)
                producer.flush(timeout=30)
                time.sleep(0.2)
        finally:
            producer.close(timeout=10)
            self.finished.set()

    def _send(self, producer: KafkaProducer, event_id: str, wire: Any) -> None:
        future = producer.send(self.topic, key=wire.key, value=wire.value, headers=wire.headers)
        future.add_callback(lambda _meta: self._acked(event_id))
        future.add_errback(lambda _exc: self._failed(event_id, wire))

    def _acked(self, event_id: str) -> None:
        with self._lock:
            self.acked.add(event_id)

    def _failed(self, event_id: str, wire: Any) -> None:
        with self._lock:
            self._retry.append((event_id, wire))

    def _resend_failed(self, producer: KafkaProducer) -> None:
        with self._lock:
            again, self._retry = [(i, w) for i, w in self._retry if i not in self.acked], []
        for event_id, wire in again:
            self.resent += 1
            self._send(producer, event_id, wire)

    def wait(self, timeout: float) -> bool:
        return self.finished.wait(timeout)
