"""The audit sealer: each ``hub.audit.entries`` record, chained and signed, into the same partition of ``hub.audit``.

Every service (the pipeline, the gateway, webhooks, operator tools) writes its audit entries to
``hub.audit.entries``; only the sealer (``casehub audit seal``, one consumer group per cluster) writes
``hub.audit``. Entries partition P is sealed into audit partition P within P's Kafka transaction, so each audit
partition has one writer at a time and its chain never forks. Where a partition's chain ends is read back from
``hub.audit`` (read_committed) the first time it is needed after an assignment: a sealer that takes a partition
over continues the chain its predecessor committed, and a transaction a crashed sealer left open is aborted
(fenced) before that.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from casehub.audit.chain import ChainHead, seal
from casehub.audit.keys import signing_key
from casehub.audit.reader import chain_head
from casehub.core import topics
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.ops.kafka_io import reader
from casehub.ops.topics import admin_client
from casehub.streams.app import base_app
from casehub.streams.exactly_once import CommitGate, Outgoing
from casehub.streams.exceptions import WorkerConfigError

log = get_logger(__name__)


class AuditSealer:
    """Chain heads per audit partition, and the seal of one entry."""

    def __init__(self, settings: Settings, signer: Ed25519PrivateKey, *, audit_topic: str) -> None:
        self.settings = settings
        self.signer = signer
        self.audit_topic = audit_topic
        self.heads: dict[int, ChainHead] = {}

    def forget(self) -> None:
        """Partitions moved: read every chain's end again before sealing into it."""
        self.heads.clear()

    def _read_head(self, partition: int) -> ChainHead:
        with reader(self.settings, client_id="casehub-audit-sealer", service="auditor") as consumer:
            return chain_head(consumer, self.audit_topic, partition)

    async def head(self, partition: int) -> ChainHead:
        found = self.heads.get(partition)
        if found is None:
            found = self.heads[partition] = await asyncio.to_thread(self._read_head, partition)
            log.info("audit chain resumed", topic=self.audit_topic, partition=partition, seq=found.seq)
        return found

    async def seal(self, partition: int, key: bytes | None, value: bytes | None,
                   headers: list[tuple[str, bytes]]) -> Outgoing:
        """The sealed audit record of one entry; the partition's chain head moves past it."""
        sealed, self.heads[partition] = seal(await self.head(partition), self.signer, key, value, headers)
        return Outgoing(self.audit_topic, key, value, sealed, partition=partition)


def build_sealer(settings: Settings, *, entries_topic: str = topics.HUB_AUDIT_ENTRIES,
                 audit_topic: str = topics.HUB_AUDIT) -> tuple[faust.App, AuditSealer]:
    """The sealer's faust app (group ``settings.audit_sealer_id``, exactly_once) and its chain state."""
    own = settings.model_copy(update={"worker_id": settings.audit_sealer_id,
                                      "worker_web_port": settings.audit_sealer_web_port})
    app = base_app(own, "auditor")
    # faust falls back to aiokafka's round-robin assignor for an app without tables or standbys, which never tells
    # exactly_once which copartitioned group a topic is in (transactional ids are per group and partition)
    app.conf.table_standby_replicas = max(1, app.conf.table_standby_replicas)
    sealer = AuditSealer(own, signing_key(settings), audit_topic=audit_topic)
    gate: CommitGate = app.transport.TransactionManager.commit_gate  # type: ignore[attr-defined]

    async def seal_entries(stream: Any) -> None:
        async for event in stream.events():
            async with gate.processing(event) as fresh:
                if fresh:
                    await _forward(app, sealer, event.message)

    async def forget_chains(sender: Any = None, *args: Any, **kwargs: Any) -> None:
        sealer.forget()

    async def ready(sender: Any = None, *args: Any, **kwargs: Any) -> None:
        log.info("audit sealer ready", group=own.worker_id, partitions=len(app.consumer.assignment()))

    app.agent(app.topic(entries_topic), name="casehub.audit.seal")(seal_entries)
    app.on_partitions_revoked.connect(forget_chains)  # type: ignore[arg-type]
    app.on_rebalance_complete.connect(ready)  # type: ignore[arg-type]
    return app, sealer


async def _forward(app: faust.App, sealer: AuditSealer, message: Any) -> None:
    headers = [(str(name), bytes(value or b"")) for name, value in (message.headers or [])]
    sealed = await sealer.seal(message.partition, message.key, message.value, headers)
    if app.in_transaction:
        await app.consumer.transactions.send_all([sealed])  # type: ignore[attr-defined]
        return
    await app.topic(sealed.topic).send(key=sealed.key, value=sealed.value, headers=list(sealed.headers),
                                       partition=sealed.partition)


def require_paired_topics(settings: Settings, entries_topic: str, audit_topic: str) -> None:
    """Refuse to start unless both topics exist with as many partitions (entries P is sealed into audit P)."""
    with admin_client(settings, "auditor") as client:
        found = {t["name"]: len(t["partitions"]) for t in client.describe_topics([entries_topic, audit_topic])
                 if not t.get("error_code")}
    missing = [name for name in (entries_topic, audit_topic) if not found.get(name)]
    if missing:
        raise WorkerConfigError(f"the audit sealer needs {', '.join(missing)}, which do(es) not exist",
                                hint="run `casehub topics apply` and `casehub access apply`")
    if found[entries_topic] != found[audit_topic]:
        raise WorkerConfigError(f"{entries_topic} has {found[entries_topic]} partitions and {audit_topic} "
                                f"{found[audit_topic]}: each entries partition is sealed into the audit partition "
                                "of the same number", hint="give both topics the same partition count")


def run_sealer(settings: Settings, *, entries_topic: str = topics.HUB_AUDIT_ENTRIES,
               audit_topic: str = topics.HUB_AUDIT) -> int:
    """Seal until SIGTERM/SIGINT; returns the exit status (0 after a clean stop)."""
    require_paired_topics(settings, entries_topic, audit_topic)
    app, _ = build_sealer(settings, entries_topic=entries_topic, audit_topic=audit_topic)
    worker = faust.Worker(app, loglevel=settings.log_level, override_logging=False, quiet=True, redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0 if app.crash_reason is None else 1
