"""Runs ``casehub worker`` as a real subprocess for end-to-end tests, with its own id, data dir, port and registry."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from stdnum.th import pin

from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.schemas.codec import encode_binary, encode_structured
from casehub.schemas.models import CaseEvent, parse_event
from tests.connectors.events import SCHEMA_BASE
from tests.kafka_helpers import drain

CASEHUB = Path(sys.executable).with_name("casehub")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"
TAMBON = "840502"  # ต.บ้านใต้ อ.เกาะพะงัน จ.สุราษฎร์ธานี
NEIGHBOUR_TAMBON = "840503"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def citizen_id() -> str:
    """A fresh, valid 13-digit Thai citizen id (check digit right)."""
    body = "1" + str(uuid.uuid4().int)[:11]
    return body + pin.calc_check_digit(body)


def registry_yaml(partners: Iterable[dict[str, Any]]) -> str:
    """A registry file holding ``partners`` (JSON is valid YAML)."""
    return json.dumps({"version": 1, "partners": list(partners)}, ensure_ascii=False, indent=1)


def partner(org: str, kind: str, jurisdiction: Any, disclosure: str, types: list[str], categories: list[str] | None = None,
            **extra: Any) -> dict[str, Any]:
    """One registry entry."""
    return {
        "id": org, "kind": kind, "name": {"th": org, "en": org}, "jurisdiction": jurisdiction,
        "disclosure": disclosure,
        "subscriptions": [{"event_types": types, "issue_categories": categories or ["*"]}] if types else [],
        **extra,
    }


@dataclass
class Worker:
    """One ``casehub worker`` subprocess."""

    settings: Settings
    workdir: Path
    registry_path: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    worker_id: str = field(default_factory=lambda: "casehub-w" + uuid.uuid4().hex[:10])
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    command: tuple[str, ...] = ("worker",)  # ("audit", "seal", ...) runs the audit sealer the same way
    ready_text: str = "worker ready"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"worker-{self.worker_id}.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "CASEHUB_KAFKA_BOOTSTRAP": self.settings.bootstrap_servers(),
                "CASEHUB_WORKER_ID": self.worker_id,
                "CASEHUB_WORKER_WEB_PORT": str(free_port()),
                "CASEHUB_WORKER_METRICS_PORT": str(free_port()),
                "CASEHUB_WORKER_DATA_DIR": str(self.workdir / "data"),
                "CASEHUB_REGISTRY_PATH": str(self.registry_path),
                "CASEHUB_LOG_LEVEL": "INFO",
                **self.env_extra,
            }
        )
        return env

    def start(self, *, wait_ready: float = 90.0) -> None:
        """Start the worker and wait (bounded) until it logs ``worker ready``."""
        self.starts += 1
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([str(CASEHUB), *self.command], env=self.env(), stdout=log, stderr=log)
        self.wait_for_log(self.ready_text, occurrences=self.starts, timeout=wait_ready)

    def wait_for_log(self, text: str, *, occurrences: int = 1, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            content = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            if content.count(text) >= occurrences:
                return
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"worker exited ({self.process.returncode}):\n{content[-4000:]}")
            time.sleep(0.2)
        raise AssertionError(f"worker did not log {text!r} within {timeout} s:\n{self.log_text()[-4000:]}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no chance to commit or clean up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def diagnose(self) -> None:
        """SIGUSR1: the worker logs its commit gate, partition offsets and task stacks."""
        assert self.process is not None
        self.process.send_signal(signal.SIGUSR1)
        self.wait_for_log("worker diagnostics", timeout=10.0)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
            return -9


def example(event_type: str) -> dict[str, Any]:
    """The data of the contract's example event of ``event_type``."""
    data: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text())["data"]
    return data


def report(*, cid: str | None = None, category: str = "children_youth", tambon: str = TAMBON,
           birth: date | None = None, **changes: Any) -> CaseEvent:
    """A valid case.reported about citizen ``cid`` in ``tambon`` (from the contract's example)."""
    data = example("case.reported")
    data.update(
        id="ev-" + uuid.uuid4().hex[:16],
        occurred_at=(datetime.now(UTC) - timedelta(minutes=2)).isoformat(),
        issue_category=category,
        location={"tambon_code": tambon},
    )
    data["subject"] = {**data["subject"], "citizen_id": cid or citizen_id()}
    if birth is not None:
        data["subject"]["birth_date"] = birth.isoformat()
    data.update(changes)
    return parse_event(data)


def follow_up(event_type: str, *, case_id: str, **changes: Any) -> CaseEvent:
    """A valid event of ``event_type`` about ``case_id`` (from the contract's example)."""
    data = example(event_type)
    data.update(id="ev-" + uuid.uuid4().hex[:16], case_id=case_id,
                occurred_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat(), location={"tambon_code": TAMBON})
    data.update(changes)
    return parse_event(data)


def publish(settings: Settings, org: str, events: Iterable[CaseEvent], *, structured: bool = False,
            key: bytes | None = b"partner-key") -> None:
    """Publish events to ``partner.<org>.inbound`` as the partner would (claiming a false source, to be ignored)."""
    producer = KafkaProducer(**connection(settings, "admin").kafka_python(), acks="all")
    try:
        for event in events:
            encode = encode_structured if structured else encode_binary
            wire = encode(event, source="/partners/someone-else", schema_base=SCHEMA_BASE)
            producer.send(f"partner.{org}.inbound", key=key, value=wire.value, headers=wire.headers).get(timeout=30)
    finally:
        producer.close(timeout=10)


def header(record: Any, name: str) -> bytes | None:
    return next((v for k, v in (record.headers or []) if k == name), None)


def read_until(settings: Settings, topics: list[str], *, done: Any, timeout: float, settle: float = 0.0,
               since: float | None = None) -> list[Any]:
    """Read ``topics`` (read_committed) until ``done(records)`` or ``timeout``; then ``settle`` s more.

    From the records written since ``since`` (epoch seconds; default: 10 minutes ago): the shared topics
    (cases.events, hub.audit, a province's outbound) hold every other test's records too.
    """
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), enable_auto_commit=False, group_id=None,
                             isolation_level="read_committed")
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(partitions)
        start_ms = int((since if since is not None else time.time() - 600) * 1000)
        # the ends are taken first: a record committed between the two lookups is then read, not skipped
        ends = consumer.end_offsets(partitions)
        found = consumer.offsets_for_times({tp: start_ms for tp in partitions})
        for tp in partitions:
            position = found.get(tp)
            consumer.seek(tp, position.offset if position is not None else ends[tp])
        return drain(consumer, finished=done, timeout=timeout, settle=settle)
    finally:
        consumer.close()


def with_ids(records: list[Any], ids: set[str]) -> list[Any]:
    """The records whose CloudEvents id (``ce_id``) is one of ``ids``."""
    return [r for r in records if (header(r, "ce_id") or b"").decode() in ids]
