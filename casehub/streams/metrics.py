"""Prometheus metrics of a worker: records in and out per stage, dead letters, dedupe hits, latency, consumer lag.

The stages call a :class:`PipelineMetrics` (one per pipeline, its own registry); ``serve`` exposes it over
HTTP on ``settings.worker_metrics_port`` (0 = off). Label values are bounded: topics by kind, not by partner;
dead letters by stage and exception class, not by free-text reason.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from casehub.core import topics
from casehub.core.metrics import serve_registry, service_registry
from casehub.core.settings import Settings
from casehub.streams.faust_compat import consumer as consumer_compat

RECEIVED_HEADER = "hub.origin.received"
"""On intake records: when the inbound record was written (its Kafka timestamp), for end-to-end latency."""
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
LAG_INTERVAL_SECONDS = 5.0


WORKER_TOPIC_KINDS = ("intake", "aggregate-cells", "commands", "changelog")
"""The worker group's own topics, ``<app id>-intake`` ... ``<app id>-<table>-changelog``, labelled by their suffix."""


def topic_kind(name: str) -> str:
    """A bounded label for a topic: ``partner.outbound`` for every partner's, the name for the hub's, the suffix for
    the worker group's own (``intake``, ``changelog``...)."""
    if name.startswith("partner.") and name.count(".") == 2:
        return "partner." + name.rsplit(".", 1)[1]
    if name in topics.HUB_TOPICS:
        return name
    return next((kind for kind in WORKER_TOPIC_KINDS if name.endswith("-" + kind)), "internal")


def received_header(timestamp: float | None) -> list[tuple[str, bytes]]:
    """The header that carries an inbound record's timestamp (seconds) to the core hop."""
    return [(RECEIVED_HEADER, f"{timestamp:.3f}".encode())] if timestamp else []


class PipelineMetrics:
    """The worker's counters, histogram and gauges, in a registry of their own (with the process's metrics)."""

    def __init__(self) -> None:
        self.registry = service_registry()
        self._lag_kinds: set[str] = set()
        r = self.registry
        self.events_in = Counter("casehub_events_in", "Records a stage read", ["stage"], registry=r)
        self.events_out = Counter("casehub_events_out", "Records a stage produced, by topic kind", ["stage", "topic"],
                                  registry=r)
        self.dead_letters = Counter("casehub_dlq_records", "Records sent to hub.dlq, by stage and reason (exception)",
                                    ["stage", "reason"], registry=r)
        self.forged_headers = Counter("casehub_partner_hub_headers_removed",
                                      "Headers in the hub. namespace a partner wrote, removed at intake", registry=r)
        self.dedupe_hits = Counter("casehub_dedupe_hits", "Exact duplicates dropped and near-duplicate reports linked",
                                   ["kind"], registry=r)
        self.latency = Histogram("casehub_end_to_end_latency_seconds",
                                 "Inbound record timestamp to the produce of its partner deliveries",
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.commits = Histogram("casehub_commit_seconds", "How long each commit (offsets, table changelogs, every "
                                 "source partition's transaction) held the worker's events back",
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.fetches = Counter("casehub_fetch_requests", "Fetches the worker's consumer sent: full (opening a fetch "
                               "session, KIP-227) and incremental (naming only the partitions that moved)",
                               ["session"], registry=r)
        self._fetches_seen: dict[str, int] = {}
        self.lag = Gauge("casehub_consumer_lag", "Records behind the high watermark, summed over the assigned "
                         "partitions of each topic kind (partner.inbound, intake, ...)", ["topic"], registry=r)
        # label children bound once: ``labels()`` costs a lock and a dict lookup per call, several times per event
        self._reads: dict[str, Any] = {}
        self._outs: dict[tuple[str, str], Any] = {}
        self._exact = self.dedupe_hits.labels("exact")
        self._near = self.dedupe_hits.labels("near")

    def read(self, stage: str) -> None:
        child = self._reads.get(stage)
        if child is None:
            child = self._reads[stage] = self.events_in.labels(stage)
        child.inc()

    def produced(self, stage: str, topic: str, count: int = 1) -> None:
        child = self._outs.get((stage, topic))
        if child is None:  # by topic name, bounded by the topics the worker writes; labelled by kind
            child = self._outs[(stage, topic)] = self.events_out.labels(stage, topic_kind(topic))
        child.inc(count)

    def dead_letter(self, stage: str, exception: str) -> None:
        self.dead_letters.labels(stage, exception).inc()
        self.produced(stage, topics.HUB_DLQ)

    def hub_headers_removed(self, count: int) -> None:
        if count:
            self.forged_headers.inc(count)

    def core_done(self, outputs: Iterable[Any], received: bytes | None) -> None:
        """After the core hop sent ``outputs`` for one record: counts, dedupe hits and latency."""
        outputs = list(outputs)
        if not outputs:
            self._exact.inc()
            return
        delivered = False
        for out in outputs:
            self.produced("core", out.topic)
            delivered = delivered or out.topic.startswith("partner.")
            if out.topic == topics.CASES_EVENTS and _linked(out.headers):
                self._near.inc()
        if delivered and received:
            self.latency.observe(max(0.0, time.time() - float(received)))

    async def update_lag(self, consumer: Any) -> None:
        """Set the lag gauge from the faust consumer's high watermarks and positions, one series per topic kind
        (one per partner topic would be thousands); a kind no longer assigned drops to 0."""
        behind = dict.fromkeys(self._lag_kinds, 0)
        for tp in consumer.assignment():
            try:
                highwater = consumer.highwater(tp)
                position = await consumer.position(tp)
            except Exception:  # noqa: BLE001 - a partition being revoked: no reading this round
                continue
            if highwater is not None and position is not None:
                kind = topic_kind(tp.topic)
                behind[kind] = behind.get(kind, 0) + max(0, highwater - position)
        for kind, records in behind.items():
            self.lag.labels(kind).set(records)
        self._lag_kinds = set(behind)

    def update_fetches(self, counts: dict[str, int]) -> None:
        """Bring the fetch counter up to the consumer's own counts (a new consumer after a restart counts anew)."""
        for kind, count in counts.items():
            seen = self._fetches_seen.get(kind, 0)
            self.fetches.labels(kind).inc(count - seen if count >= seen else count)
            self._fetches_seen[kind] = count

    def serve(self, settings: Settings) -> int | None:
        """Expose ``/metrics`` on ``settings.worker_metrics_port`` (loopback unless configured); returns the port."""
        return serve_registry(self.registry, host=settings.worker_metrics_host, port=settings.worker_metrics_port,
                              service="worker")


def _linked(headers: Iterable[tuple[str | bytes, bytes]]) -> bool:
    """Whether a cases.events record is a ``case.linked`` (a near-duplicate report joined to its case)."""
    return any(value == b"case.linked" and name in ("ce_type", b"ce_type") for name, value in headers)


def install(app: Any) -> PipelineMetrics:
    """Metrics for ``app``'s pipeline, with a timer that refreshes the consumer lag gauge."""
    metrics = PipelineMetrics()

    async def refresh_lag() -> None:
        await metrics.update_lag(app.consumer)
        metrics.update_fetches(consumer_compat.fetch_requests(app.consumer))

    app.timer(LAG_INTERVAL_SECONDS, name="casehub.metrics.lag")(refresh_lag)
    return metrics
