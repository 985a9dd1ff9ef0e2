"""Runs a replay: resolve the range, read it without a consumer group, select, hand to the target, produce, audit."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from kafka.errors import KafkaError
from tqdm import tqdm

from casehub.connectors.replay.exceptions import ReplayFailed
from casehub.connectors.replay.ranges import OffsetSpec, resolve_spans
from casehub.connectors.replay.selection import Candidate, Filters
from casehub.connectors.replay.states import case_states_for
from casehub.connectors.replay.targets import REPLAY_PREFIX, FileTarget, PartnerTarget, PipelineTarget, Target
from casehub.core import topics
from casehub.core.errors import wrap_kafka_error
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.ops import operator_audit
from casehub.ops.exceptions import BadSelection
from casehub.ops.kafka_io import Span, partitions_of, read_spans, reader, writer
from casehub.registry import Disclosure, Registry
from casehub.streams.pseudonyms import Pseudonyms
from casehub.vault.feed import reading_store
from casehub.vault.keystore import DataKeyStore

log = get_logger(__name__)
TargetKind = Literal["partner", "pipeline", "file"]


@dataclass
class ReplayRequest:
    """What an operator asked for (the CLI's options)."""

    from_topic: str
    target: TargetKind
    partner: str | None = None
    path: Path | None = None
    since: datetime | None = None
    until: datetime | None = None
    start: OffsetSpec = field(default_factory=lambda: OffsetSpec(None, {}))
    end: OffsetSpec = field(default_factory=lambda: OffsetSpec(None, {}))
    partitions: tuple[int, ...] = ()
    filters: Filters = field(default_factory=Filters)
    dry_run: bool = False
    rate: float | None = None
    progress: bool = True
    states_topic: str = topics.CASES_STATE
    audit_topic: str = topics.HUB_AUDIT_ENTRIES


@dataclass
class ReplayReport:
    """What a replay read, selected, skipped (and why) and wrote."""

    id: str
    from_topic: str
    target: dict[str, Any]
    spans: dict[int, Span]
    dry_run: bool
    read: int = 0
    selected: int = 0
    written: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def ranges(self) -> dict[str, list[int]]:
        return {str(p): [s.start, s.end] for p, s in sorted(self.spans.items())}

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "from_topic": self.from_topic, "target": self.target, "dry_run": self.dry_run,
            "ranges": self.ranges(), "read": self.read, "selected": self.selected, "written": self.written,
            "by_type": dict(sorted(self.by_type.items())), "skipped": dict(sorted(self.skipped.items())),
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.read / self.seconds, 1) if self.seconds else None,
        }


def provenance(replay_id: str, record: Any) -> list[tuple[str, bytes]]:
    """The headers that say which replay wrote a record, and where it was read."""
    return [
        (REPLAY_PREFIX + "id", replay_id.encode()),
        (REPLAY_PREFIX + "topic", record.topic.encode()),
        (REPLAY_PREFIX + "partition", str(record.partition).encode()),
        (REPLAY_PREFIX + "offset", str(record.offset).encode()),
    ]


def make_target(settings: Settings, registry: Registry, request: ReplayRequest, replay_id: str) -> Target:
    if request.target == "partner":
        if not request.partner:
            raise BadSelection("--to-partner needs an organisation id")
        partner = registry.get(request.partner)
        states = {}
        if partner.disclosure is Disclosure.FULL:
            states = case_states_for(settings, partner.id, topic=request.states_topic)
        return PartnerTarget(registry, partner.id, states, replay_id, audit_topic=request.audit_topic,
                             pseudonyms=Pseudonyms.from_settings(settings), schema_base=settings.public_base_url())
    if request.target == "pipeline":
        return PipelineTarget(registry, schema_base=settings.public_base_url())
    if request.path is None:
        raise BadSelection("--to-file needs a path")
    return FileTarget(request.path, replay_id)


class Pacer:
    """Sleeps so that no more than ``rate`` records per second go out."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.started = time.monotonic()

    def wait(self, sent: int) -> None:
        if self.rate:
            ahead = sent / self.rate - (time.monotonic() - self.started)
            if ahead > 0:
                time.sleep(ahead)


def run_replay(settings: Settings, registry: Registry, request: ReplayRequest) -> ReplayReport:
    """Replay ``request`` and return its report; writes one audit entry (a dry run's says what was counted)."""
    replay_id = operator_audit.new_id("rp")
    operator = operator_audit.operator_principal(settings)
    started = time.monotonic()
    target = make_target(settings, registry, request, replay_id)
    with reader(settings, client_id=f"casehub-replay-{replay_id}", max_partition_fetch_bytes=4 * 1024 * 1024) as consumer, \
            reading_store(settings) as store:
        spans = resolve_spans(consumer, request.from_topic, since=request.since, until=request.until,
                              start=request.start, end=request.end, partitions=request.partitions)
        report = ReplayReport(replay_id, request.from_topic, target.describe(), spans, request.dry_run)
        if request.target == "partner" and not request.dry_run:
            partitions_of(consumer, topics.outbound(request.partner or ""))  # the partner's topic must exist
        bar = tqdm(total=sum(s.size for s in spans.values()), unit="rec", file=sys.stderr, disable=not request.progress,
                   desc=f"replay {request.from_topic}", dynamic_ncols=True)
        failures: list[BaseException] = []
        try:
            with writer(settings, client_id=f"casehub-replay-{replay_id}") as producer:
                if request.dry_run:  # an operator read: the counts it shows are recorded before they are shown
                    _consume(consumer, request, target, report, None, bar, failures, store)
                    _audit(producer, request, report, operator, "read", "counted", 0)
                else:
                    failures = _produce(consumer, request, target, report, producer, bar, operator, store)
        finally:
            bar.close()
            target.close()
    report.seconds = time.monotonic() - started
    if failures:
        raise ReplayFailed(f"replay {report.id}: {len(failures)} record(s) were not written: {failures[0]!r}",
                           hint="the replay can be run again; partners dedupe on (ce_source, ce_id)")
    log.info("replay finished", **{k: v for k, v in report.as_dict().items() if k not in ("ranges", "target")})
    return report


def _produce(consumer: Any, request: ReplayRequest, target: Target, report: ReplayReport, producer: Any, bar: Any,
             operator: str, store: DataKeyStore | None = None) -> list[BaseException]:
    """Replay into ``producer``; the audit record says how it ended (completed, failed or interrupted)."""
    failures: list[BaseException] = []
    status = "interrupted"
    try:
        _consume(consumer, request, target, report, producer, bar, failures, store)
        status = "failed" if failures else "completed"
    finally:
        _audit(producer, request, report, operator, "replay", status, len(failures))
    return failures


def _consume(consumer: Any, request: ReplayRequest, target: Target, report: ReplayReport, producer: Any, bar: Any,
             failures: list[BaseException], store: DataKeyStore | None = None) -> None:
    """Hand each selected record to ``target``; ``store`` opens sealed fields (an erased subject's are skipped)."""
    pacer = Pacer(request.rate)
    for record in read_spans(consumer, request.from_topic, report.spans):
        report.read += 1
        bar.update(1)
        candidate = Candidate(record, store)
        passes = request.filters.passes(candidate)
        if not passes:
            if passes is None:
                report.skipped["undecodable (cannot filter)"] += 1
            continue
        outcome = target.take(candidate, provenance(report.id, record), dry_run=request.dry_run)
        if outcome.skipped:
            report.skipped[outcome.skipped] += 1
        else:
            report.selected += 1
            report.by_type[outcome.event_type] += 1
        if producer is not None:
            for out in outcome.outputs:
                future = producer.send(out.topic, key=out.key, value=out.value, headers=out.headers)
                future.add_errback(failures.append)
                report.written += 1
            pacer.wait(report.selected)
    if producer is not None:
        try:
            producer.flush(timeout=120)
        except KafkaError as exc:
            raise wrap_kafka_error(exc, "produce") from exc


def _audit(producer: Any, request: ReplayRequest, report: ReplayReport, operator: str, action: str, status: str,
           failed: int) -> None:
    """The replay's audit entry; a dry run's is a ``read`` (tool ``replay --dry-run``): it showed counts only."""
    extra = {"tool": "replay --dry-run", "records": []} if action == "read" else {}
    topic, key, value, headers = operator_audit.action_record(
        action, report.id, operator=operator, audit_topic=request.audit_topic, status=status, failed=failed, **extra,
        from_topic=request.from_topic, ranges=report.ranges(),
        since=request.since.isoformat() if request.since else None,
        until=request.until.isoformat() if request.until else None,
        filters=request.filters.as_dict(), target=report.target, consumer_group=None,
        read=report.read, selected=report.selected, written=report.written,
        by_type=dict(report.by_type), skipped=dict(report.skipped), rate_limit=request.rate,
    )
    producer.send(topic, key=key, value=value, headers=headers).get(timeout=60)
