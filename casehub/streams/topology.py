"""The pipeline's wiring: topics, RocksDB tables, the three agents and the SLA timer of the hub's faust app.

Two hops, each one Kafka transaction per source partition (see ``exactly_once``):

1. ``intake`` reads every ``partner.<org>.inbound`` topic, removes every ``hub.*`` header the partner wrote,
   validates, and forwards the record to ``<app id>-intake`` keyed by its *shard* (the subject's, or the case
   id's), or dead-letters it. Only the hub writes provenance (``hub.origin.*``) and commands, which travel on
   ``<app id>-commands`` (see ``commands``); partners' ACLs keep them off both internal topics.
2. ``core`` reads the intake topic; every table it uses is keyed within the shard, so one partition holds
   everything about a subject and its cases: dedupe → enrich → ``cases.events`` + ``cases.state`` →
   route + project → ``partner.<org>.outbound`` + ``hub.audit``; new cases count in the aggregate cells.
3. ``aggregates`` sums the cells and publishes ``stats.aggregates`` (small cells suppressed).
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust

from casehub.core import limits, topics
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.streams import aggregates, commands, diagnostics, expiry, heap, metrics, timers
from casehub.streams.app import ROCKSDB_OPTIONS
from casehub.streams.core import CoreProcessor, Output, StagedTable
from casehub.streams.dlq import Origin, dead_letter_headers, origin_of, redrive_key, without_hub_headers
from casehub.streams.exactly_once import CommitGate, Outgoing, TransactionalTable
from casehub.streams.exceptions import StageRejected
from casehub.streams.faust_compat import tables as compat_tables
from casehub.streams.keys import partition_key, shard_of_case
from casehub.streams.provenance import FORWARDED_HEADER, header, message_headers, origin_headers, original
from casehub.streams.shard import placement_of_record
from casehub.streams.validate import accept
from casehub.vault import worker as vault_worker
from casehub.vault.exceptions import Erased, Tampered

log = get_logger(__name__)
COMMAND_RESEND_SECONDS = 60.0


def _now() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    """Declares the pipeline on a faust app and runs its agents."""

    def __init__(self, app: faust.App, settings: Settings, registry: Any) -> None:
        self.app = app
        self.settings = settings
        self.registry = registry
        partitions = settings.worker_partitions
        self.inbound = app.topic(*sorted(topics.inbound(org) for org in registry.partners))
        self.intake = app.topic(f"{app.conf.id}-intake", internal=True, partitions=partitions)
        self.cells_topic = app.topic(f"{app.conf.id}-aggregate-cells", internal=True, partitions=partitions)
        self.commands = app.topic(commands.topic_name(app.conf.id), internal=True, partitions=partitions)

        def table(name: str) -> Any:
            return app.Table(
                name,
                default=None,
                partitions=partitions,
                key_type=bytes,
                value_type=bytes,
                options=dict(ROCKSDB_OPTIONS),
            )

        self.seen, self.subjects, self.cases, self.deadlines, self.cells, self.expiry = (
            table(n) for n in ("seen", "subjects", "cases", "deadlines", "cells", "expiry")
        )
        self.tables: tuple[TransactionalTable, ...] = (
            self.seen, self.subjects, self.cases, self.deadlines, self.cells, self.expiry
        )
        self.core = CoreProcessor.from_settings(settings, registry, cells_topic=self.cells_topic.get_topic_name())
        assert self.core.keys is not None  # from_settings always seals
        self.vault = vault_worker.WorkerVault(settings, self.core.keys)
        self.gate: CommitGate = app.transport.TransactionManager.commit_gate  # type: ignore[attr-defined]
        self.metrics = metrics.install(app)
        self.gate.on_commit = self.metrics.commits.observe
        app.transport.TransactionManager.deliveries.on_dead_letter = self.metrics.dead_letter  # type: ignore[attr-defined]
        app.transport.TransactionManager.output_topics = self.output_topics()  # type: ignore[attr-defined]
        self._topics: dict[str, Any] = {}
        self.redrive_key = redrive_key(settings.pseudonym_key.get_secret_value().encode())
        self._commanded: dict[str, float] = {}
        self._settled = False
        app.agent(self.inbound, name="casehub.intake")(self.intake_agent)
        app.agent(self.intake, name="casehub.core")(self.core_agent)
        app.agent(self.cells_topic, name="casehub.aggregates")(self.aggregates_agent)
        app.agent(self.commands, name="casehub.commands")(self.commands_agent)
        app.timer(settings.escalation_check_seconds, name="casehub.sla")(self.check_deadlines)
        app.timer(settings.expiry_check_seconds, name="casehub.expiry")(self.request_sweeps)
        app.timer(vault_worker.REFRESH_SECONDS, name="casehub.vault")(self.vault.refresh)
        app.on_rebalance_complete.connect(self._on_ready)  # type: ignore[arg-type]

    async def _on_ready(self, sender: Any = None, **kwargs: Any) -> None:
        """Tables recovered and partitions assigned: the worker processes records from now on."""
        assigned = len(self.app.consumer.assignment())
        if not self._settled:  # once: registry, geography, clients, tables and caches exist now
            await self.vault.refresh()  # the keys other workers made before this one started
            heap.settle("ready")
            diagnostics.install(self.app, self.gate)
            self._settled = True
        log.info("worker ready", worker_id=self.app.conf.id, partitions=assigned,
                 event_loop=type(asyncio.get_running_loop()).__module__.split(".")[0])  # uvloop or asyncio

    def internal_topics(self) -> list[Any]:
        """The topics this worker group declares for itself (besides table changelogs)."""
        return [self.intake, self.cells_topic, self.commands]

    def output_topics(self) -> frozenset[str]:
        """Every topic an event's transaction may write: partners' outbound topics, the hub's, the group's own."""
        own = [t.get_topic_name() for t in self.internal_topics()] + [
            t.changelog_topic.get_topic_name() for t in self.tables]
        hub = (topics.CASES_EVENTS, topics.CASES_STATE, topics.HUB_AUDIT_ENTRIES, topics.HUB_DLQ, topics.STATS_AGGREGATES)
        return frozenset([*(topics.outbound(org) for org in self.registry.partners), *hub, *own])

    async def send(self, records: list[tuple[str, bytes | None, bytes | None, Any]]) -> None:
        """Produce the outputs of the event being processed, and its table changelogs: into its transaction."""
        outgoing = [Outgoing(topic, key, value, headers) for topic, key, value, headers in records]
        for table in self.tables:
            outgoing += table.take_changelog()
        if self.app.in_transaction:
            await self.app.consumer.transactions.send_all(outgoing)  # type: ignore[attr-defined]
            return
        for record in outgoing:
            future = await self.topic(record.topic).send(
                key=record.key, value=record.value, headers=list(record.headers), partition=record.partition
            )
            if record.on_sent is not None:
                future.add_done_callback(record.on_sent)

    def topic(self, name: str) -> Any:
        """A cached faust Topic for sending raw bytes to ``name``."""
        found = self._topics.get(name)
        if found is None:
            found = self._topics[name] = self.app.topic(name)
        return found

    def _placement(self, origin: Origin) -> tuple[str, str]:
        return placement_of_record(origin, org=topics.org_of_inbound(origin.topic),
                                   pseudonym_key=self.core.pseudonym_key, pseudonyms=self.core.pseudonyms)

    async def dead_letter(self, origin: Origin, error: StageRejected) -> None:
        """Send the record, unchanged, to ``hub.dlq`` with its ``hub.error.*`` headers; its value sealed under its
        subject's data key (``hub.vault.key`` names it; `casehub dlq show` and re-drive open it byte for byte)."""
        headers = dead_letter_headers(origin, stage=error.stage, reason=error.message, exception=error.exception)
        self.metrics.dead_letter(error.stage, error.exception)
        value, headers, keys = self.vault.dead_letter(self._placement(origin)[1], origin.value, headers)
        # with what the refusal itself produces (an authorization refusal's hub.audit record), in one transaction
        await self.send([*((t, k, v, []) for t, k, v in keys), (topics.HUB_DLQ, origin.key, value, headers),
                         *error.records])
        log.warning(  # reasons name the field and the rule, never the value (no personal data in logs)
            "dead letter", stage=error.stage, reason=error.message[:300], exception=error.exception,
            topic=origin.topic, partition=origin.partition, offset=origin.offset,
        )

    async def _each_new(self, stream: Any, handle: Callable[[Any], Awaitable[None]]) -> None:
        """Every agent's loop: each event under the commit gate, a record fetched twice handled once."""
        async for event in stream.events():
            async with self.gate.processing(event) as fresh:
                if fresh:
                    await handle(event.message)

    async def intake_agent(self, stream: Any) -> None:
        """Hop 1: validate each inbound record, then forward it by shard or dead-letter it."""
        await self._each_new(stream, lambda message: self._intake(origin_of(message), message.timestamp))

    async def _intake(self, inbound: Origin, received: float | None = None) -> None:
        self.metrics.read("validate")
        origin, removed = without_hub_headers(inbound, self.redrive_key)
        if removed:
            self.metrics.hub_headers_removed(removed)
            log.warning("partner hub headers removed", count=removed, topic=origin.topic, partition=origin.partition,
                        offset=origin.offset)
        size = limits.record_bytes(origin.key, origin.value, origin.headers)
        if size > limits.MAX_RECORD_BYTES:
            await self.dead_letter(origin, StageRejected(
                f"the record is {size} bytes; the hub takes records of at most {limits.MAX_RECORD_BYTES} bytes",
                stage="validate", exception="RecordTooLarge"))
            return
        # no decoding here: the core hop decodes and validates each record once (and dead-letters it there)
        shard, scope = self._placement(origin)
        # the inbound record as it came, sealed under its subject's key: the intake topic holds nothing readable
        value, key, keys = self.vault.seal_record(scope, origin.value)
        headers = [*origin_headers(origin), (vault_worker.INTAKE_KEY_HEADER, key.key_id.encode()),
                   *metrics.received_header(received)]
        await self.send([*((t, k, v, []) for t, k, v in keys),
                         (self.intake.get_topic_name(), partition_key(shard), value, headers)])
        self.metrics.produced("validate", self.intake.get_topic_name())

    async def _opened(self, origin: Origin, headers: list[tuple[str, bytes]]) -> Origin:
        """The intake record's origin with the inbound bytes it carries opened (an unsealed one is as it is)."""
        key_id = header(headers, vault_worker.INTAKE_KEY_HEADER)
        if key_id is None:
            return origin
        try:
            value = await self.vault.open_intake(key_id.decode(errors="replace"), origin.value)
        except Tampered as exc:
            raise StageRejected(f"the intake record does not open: {exc.message}", stage="core",
                                exception="Tampered") from None
        return Origin(origin.topic, origin.partition, origin.offset, origin.key, value, origin.headers)

    async def core_agent(self, stream: Any) -> None:
        """Hop 2: dedupe, enrich, publish the case, route and deliver; escalate missed SLAs."""
        await self._each_new(stream, self._core)

    async def _core(self, message: Any) -> None:
        headers = message_headers(message)
        self.metrics.read("core")
        try:
            origin = await self._opened(original(message, headers), headers)
        except StageRejected as exc:
            await self.dead_letter(origin_of(message), exc)
            return
        except Erased:  # erased while the record waited in the intake topic: nothing of it is left to process
            self.metrics.dead_letter("core", "SubjectErased")
            log.warning("intake record of an erased subject skipped", partition=message.partition,
                        offset=message.offset)
            return
        now = _now()
        try:
            accepted = accept(origin, now=now, pseudonyms=self.core.pseudonyms)
        except StageRejected as exc:
            await self.dead_letter(origin, exc)
            return
        except Exception as exc:  # a bug in a stage must not stall the partition: dead-letter and go on
            await self.dead_letter(origin, unexpected(exc, "validate", origin))
            return
        shard_key = partition_key(self.core.shard_for(accepted.event))
        if shard_key != message.key and header(headers, FORWARDED_HEADER) is None:
            # intake's look at the record (shard.py) named another shard: its tables are in that shard's partition
            await self.send([(self.intake.get_topic_name(), shard_key, message.value, [*headers, (FORWARDED_HEADER, b"1")])])
            return
        staged = self._staged()
        try:
            outputs = self.core.process_accepted(accepted, now=now, **staged)
        except StageRejected as exc:
            await self.dead_letter(origin, exc)
            return
        except Exception as exc:  # see above
            await self.dead_letter(origin, unexpected(exc, "core", origin))
            return
        oversize = _oversize(outputs)
        if oversize is not None:  # nothing of this event is applied or sent: its tables stay as they were
            await self.dead_letter(origin, oversize)
            return
        for table in staged.values():
            table.apply()
        await self._send_all(outputs)
        self.metrics.core_done(outputs, received=header(headers, metrics.RECEIVED_HEADER))

    def _staged(self) -> dict[str, StagedTable]:
        return {
            "seen": StagedTable(self.seen),
            "subjects": StagedTable(self.subjects),
            "cases": StagedTable(self.cases),
            "deadlines": StagedTable(self.deadlines),
            "expiring": StagedTable(self.expiry),
        }

    async def _send_all(self, outputs: list[Output]) -> None:
        await self.send([(out.topic, out.key, out.value, out.headers) for out in outputs])

    async def commands_agent(self, stream: Any) -> None:
        """The hub's own commands (escalate, expire), each in its partition's transaction like an event."""
        await self._each_new(stream, self._command)

    async def _command(self, message: Any) -> None:
        self.metrics.read(commands.STAGE)
        try:
            command = commands.parse(message_headers(message), message.value)
            if isinstance(command, commands.Escalate):
                await self._escalate(command.case_id)
            else:
                await self._sweep(message.partition, command.until)
        except StageRejected as exc:
            await self.dead_letter(origin_of(message), exc)
        except Exception as exc:  # see _intake
            origin = origin_of(message)
            await self.dead_letter(origin, unexpected(exc, commands.STAGE, origin))

    async def _escalate(self, case_id: str) -> None:
        staged = self._staged()
        outputs = self.core.escalate(case_id, now=_now(), cases=staged["cases"], deadlines=staged["deadlines"])
        for table in staged.values():
            table.apply()
        await self._send_all(outputs)
        self._commanded.pop(case_id, None)

    async def _sweep(self, partition: int, until: datetime) -> None:
        due = expiry.due_before(compat_tables.partition_keys(self.expiry, partition), until)
        staged = self._staged()
        deleted = self.core.expire(
            due, until=until, seen=staged["seen"], subjects=staged["subjects"], expiring=staged["expiring"]
        )
        for table in staged.values():
            table.apply()
        await self.send([])  # the deletions' changelog records, in this command's transaction
        if due:
            log.info("dedupe state expired", partition=partition, planned=len(due), deleted=deleted)

    async def request_sweeps(self) -> None:
        """The expiry timer: ask each intake partition of this worker with due dedupe entries to delete them."""
        now = _now()
        bound = timers.moment_key(now).encode()
        intake = self.intake.get_topic_name()  # the commands topic is co-partitioned with it
        for tp in sorted(self.app.consumer.assignment()):
            if tp.topic != intake:
                continue
            first = next(iter(compat_tables.partition_keys(self.expiry, tp.partition)), None)
            if first is not None and first < bound:
                # not transactional (no event is being processed); a repeated sweep finds nothing more to delete
                await self.commands.send(
                    value=str(int(now.timestamp() * 1000)).encode(),
                    partition=tp.partition,
                    headers=[(commands.COMMAND_HEADER, commands.EXPIRE)],
                )

    async def aggregates_agent(self, stream: Any) -> None:
        """Hop 3: count new cases per cell; publish a cell when it appears (suppressed) and from 5 cases on."""
        await self._each_new(stream, self._count_cell)

    async def _count_cell(self, message: Any) -> None:
        key = message.key
        count = int(self.cells.get(key) or b"0") + int(message.value or b"1")
        self.cells[key] = str(count).encode()
        published: list[tuple[str, bytes | None, bytes | None, Any]] = []
        if count == 1 or count >= aggregates.SMALL_CELL:
            record = aggregates.cell_record(key, count)
            published.append((topics.STATS_AGGREGATES, key, record, [("content-type", b"application/json")]))
        await self.send(published)  # the count's changelog goes out either way

    async def check_deadlines(self) -> None:
        """The SLA timer: ask the owning partition to escalate each case whose assignment deadline passed."""
        now = _now()
        for case_id in self._overdue(timers.moment_key(now).encode()):
            last = self._commanded.get(case_id)
            if last is not None and now.timestamp() - last < COMMAND_RESEND_SECONDS:
                continue
            shard = shard_of_case(case_id)
            if shard is None:
                continue
            # not transactional (no event is being processed): the core agent escalates at most once per deadline
            await self.commands.send(
                key=partition_key(shard), value=case_id.encode(), headers=[(commands.COMMAND_HEADER, commands.ESCALATE)]
            )
            self._commanded[case_id] = now.timestamp()

    def _overdue(self, now_key: bytes) -> list[str]:
        """Case ids whose deadline key sorts before ``now_key``, reading each partition's database in key order.

        faust's table iteration visits every key; deadline-ordered keys let each database stop at the
        first deadline still ahead (via the RocksDB store's per-partition databases).
        """
        overdue: list[str] = []
        for db in compat_tables.active_databases(self.deadlines):
            for key in db.keys():  # noqa: SIM118 - a raw-mode Rdict cannot be iterated directly
                if key >= now_key:
                    break
                overdue.append(timers.case_of(key))
        return overdue


def build(app: faust.App, settings: Settings, registry: Any) -> Pipeline:
    """Declare the pipeline on ``app``."""
    return Pipeline(app, settings, registry)


def unexpected(exc: Exception, stage: str, origin: Origin) -> StageRejected:
    """A stage's unexpected failure as a dead-letter reason that names no value.

    Exception messages can quote record content (pydantic echoes inputs), so neither the reason nor the log line
    carries them: the class, and the code line that raised, are what a developer needs.
    """
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f"{Path(frame.filename).name}:{frame.lineno}" if frame else "unknown"
    log.error("stage failed", stage=stage, exception=type(exc).__name__, where=where, topic=origin.topic,
              partition=origin.partition, offset=origin.offset)
    return StageRejected(f"unexpected {type(exc).__name__} in the {stage} stage at {where}", stage=stage,
                         exception=type(exc).__name__)


def _oversize(outputs: list[Output]) -> StageRejected | None:
    """Why the event's outputs cannot be produced (one is over the output limit), or None."""
    for out in outputs:
        size = limits.record_bytes(out.key, out.value, out.headers)
        if size > limits.MAX_OUTPUT_BYTES:
            return StageRejected(
                f"its record for {metrics.topic_kind(out.topic)} would be {size} bytes, over the "
                f"{limits.MAX_OUTPUT_BYTES}-byte limit of the topics the hub writes", stage="core",
                exception="RecordTooLarge")
    return None
