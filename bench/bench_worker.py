"""`casehub worker` processes for the benches: a group of N workers that starts reading partners' topics at their end."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.registry import Registry

CASEHUB = Path(sys.executable).with_name("casehub")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_at_end(settings: Settings, group: str, registry: Registry) -> None:
    """Commit the end of every partner's inbound topic for ``group``: a new worker group reads only what comes next.

    The simulator's partners are the registry's, whose topics hold every earlier run's records.
    """
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=group, enable_auto_commit=False)
    try:
        wanted = {topics.inbound(org) for org in registry.partners}
        partitions = [TopicPartition(topic, p) for topic in sorted(wanted)
                      for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = consumer.end_offsets(partitions)
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in ends.items()})
    finally:
        consumer.close()


def other_worker_groups(settings: Settings, own: str) -> list[str]:
    """Consumer groups besides ``own`` whose members read partners' inbound topics now (another hub's workers).

    Every worker group reads every partner's topic and writes ``cases.events``. The driver learns a case's id from
    the first ``cases.events`` record of its report; another group's record names the case id *that* group gave it,
    so the measured group gets follow-ups of cases it never saw and dead-letters them ("no case ... is known to the
    hub"), and its figures are no longer its own.
    """
    # kafka-python warns, quoting the whole subscription, of each member metadata it cannot decode (faust's)
    logging.getLogger("kafka.admin._groups").setLevel(logging.ERROR)
    admin = KafkaAdminClient(**connection(settings, "admin").kafka_python(), client_id="casehub-bench")
    try:
        active = [g["group_id"] for g in admin.list_groups()
                  if g["group_state"] not in ("Empty", "Dead") and g["group_id"] != own]
        described = admin.describe_groups(active) if active else {}
    finally:
        admin.close()
    return sorted(group for group, found in described.items()
                  if any(_reads_partner_topics(member.get("member_metadata")) for member in found.get("members") or ()))


def _reads_partner_topics(metadata: object) -> bool:
    """Whether a member's subscription names an inbound topic (metadata decoded, or faust's raw bytes: names in it)."""
    text = metadata.decode("latin-1") if isinstance(metadata, bytes) else str(metadata or "")
    return "partner." in text and ".inbound" in text


class Worker:
    """One `casehub worker` subprocess of group ``worker_id`` (several may share it)."""

    def __init__(self, settings: Settings, folder: Path, worker_id: str, *, partitions: int,
                 registry_path: Path | None = None, index: int = 0, code: Path | None = None) -> None:
        self.log = folder / f"worker-{worker_id}-{index}.log"
        self.worker_id = worker_id
        env = dict(os.environ)
        env.update(CASEHUB_KAFKA_BOOTSTRAP=settings.bootstrap_servers(), CASEHUB_WORKER_ID=worker_id,
                   CASEHUB_WORKER_WEB_PORT=str(free_port()), CASEHUB_WORKER_METRICS_PORT=str(free_port()),
                   CASEHUB_WORKER_DATA_DIR=str(folder / f"data-{index}"), CASEHUB_WORKER_PARTITIONS=str(partitions),
                   CASEHUB_LOG_LEVEL="INFO")
        if registry_path is not None:
            env["CASEHUB_REGISTRY_PATH"] = str(registry_path)
        if code is not None:  # another checkout's casehub (a before/after comparison in one run)
            env["PYTHONPATH"] = str(code)
            # as the admin (as this bench connects): an older worker may need ACLs this cluster no longer grants
            admin = connection(settings, "admin")
            env.update(CASEHUB_KAFKA_SASL_USERNAME=admin.username or "", CASEHUB_KAFKA_SASL_PASSWORD=admin.password or "")
        self.process = subprocess.Popen([str(CASEHUB), "worker"], env=env, stdout=self.log.open("ab"),
                                        stderr=subprocess.STDOUT)
        self.peak_rss = 0

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def sample_rss(self) -> int:
        try:
            rss = int(psutil.Process(self.process.pid).memory_info().rss)
        except psutil.NoSuchProcess:
            return self.peak_rss
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the worker used so far."""
        try:
            times = psutil.Process(self.process.pid).cpu_times()
        except psutil.NoSuchProcess:
            return float("nan")
        return float(times.user + times.system)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


class WorkerGroup:
    """``count`` workers of one fresh group, each with its own data dir and ports; ready once each logged so."""

    def __init__(self, settings: Settings, registry: Registry, folder: Path, *, count: int, partitions: int,
                 registry_path: Path | None = None, code: Path | None = None) -> None:
        self.worker_id = f"casehub-bench-{uuid.uuid4().hex[:8]}"
        start_at_end(settings, self.worker_id, registry)
        self.workers = [Worker(settings, folder, self.worker_id, partitions=partitions, registry_path=registry_path,
                               index=i, code=code) for i in range(count)]

    @property
    def intake_topic(self) -> str:
        return f"{self.worker_id}-intake"

    def wait_ready(self, timeout: float = 180.0, settle: float = 5.0) -> None:
        """Until every worker logged ``worker ready`` and no rebalance followed for ``settle`` seconds."""
        deadline = time.monotonic() + timeout
        last = -1
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            for worker in self.workers:
                if worker.process.poll() is not None:
                    raise SystemExit(f"worker exited:\n{worker.log_text()[-3000:]}\nwhole log: {worker.log}")
            counts = [worker.log_text().count("worker ready") for worker in self.workers]
            if sum(counts) != last:
                last, quiet_since = sum(counts), time.monotonic()
            if all(counts) and time.monotonic() - quiet_since >= settle:
                return
            time.sleep(0.3)
        raise SystemExit(f"workers not ready within {timeout:.0f} s; logs: {', '.join(str(w.log) for w in self.workers)}")

    def sample_rss(self) -> None:
        for worker in self.workers:
            worker.sample_rss()

    def cpu_seconds(self) -> float:
        return sum(worker.cpu_seconds() for worker in self.workers)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
