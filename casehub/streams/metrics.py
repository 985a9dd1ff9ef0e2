"""Prometheus metrics of a worker: records in and out per stage, dead letters, dedupe hits, latency, consumer lag.

The stages call a :class:`PipelineMetrics` (one per pipeline, its own registry); ``serve`` exposes it over
HTTP on ``settings.worker_metrics_port`` (0 = off). Label values are bounded: topics by kind, not by partner;
dead letters by stage and exception class, not by free-text reason.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from casehub.core import topics
from casehub.core.logging import get_logger
from casehub.core.settings import Settings

log = get_logger(__name__)
RECEIVED_HEADER = "hub.origin.received"
"""On intake records: when the inbound record was written (its Kafka timestamp), for end-to-end latency."""
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
LAG_INTERVAL_SECONDS = 5.0


def topic_kind(name: str) -> str:
    """A bounded label for a topic: ``partner.outbound`` for every partner's, the name for the hub's."""
    if name.startswith("partner.") and name.count(".") == 2:
        return "partner." + name.rsplit(".", 1)[1]
    if name in (topics.CASES_EVENTS, topics.CASES_STATE, topics.HUB_DLQ, topics.HUB_AUDIT, topics.STATS_AGGREGATES):
        return name
    return "internal"


def received_header(timestamp: float | None) -> list[tuple[str, bytes]]:
    """The header that carries an inbound record's timestamp (seconds) to the core hop."""
    return [(RECEIVED_HEADER, f"{timestamp:.3f}".encode())] if timestamp else []


class PipelineMetrics:
    """The worker's counters, histogram and gauges, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
        self.lag = Gauge("casehub_consumer_lag", "Records behind the high watermark, per assigned partition",
                         ["topic", "partition"], registry=r)

    def read(self, stage: str) -> None:
        self.events_in.labels(stage).inc()

    def produced(self, stage: str, topic: str, count: int = 1) -> None:
        self.events_out.labels(stage, topic_kind(topic)).inc(count)

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
            self.dedupe_hits.labels("exact").inc()
            return
        delivered = False
        for out in outputs:
            self.produced("core", out.topic)
            delivered = delivered or out.topic.startswith("partner.")
            if out.topic == topics.CASES_EVENTS and (b"ce_type", b"case.linked") in _header_pairs(out.headers):
                self.dedupe_hits.labels("near").inc()
        if delivered and received:
            self.latency.observe(max(0.0, time.time() - float(received)))

    async def update_lag(self, consumer: Any) -> None:
        """Set the lag gauge from the faust consumer's high watermarks and positions."""
        for tp in consumer.assignment():
            try:
                highwater = consumer.highwater(tp)
                position = await consumer.position(tp)
            except Exception:  # noqa: BLE001 - a partition being revoked: no reading this round
                continue
            if highwater is not None and position is not None:
                self.lag.labels(tp.topic, str(tp.partition)).set(max(0, highwater - position))

    def serve(self, settings: Settings) -> int | None:
        """Expose ``/metrics`` on ``settings.worker_metrics_port`` (loopback unless configured); returns the port."""
        if not settings.worker_metrics_port:
            return None
        try:
            start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host, registry=self.registry)
        except OSError as exc:  # a port in use must not stop the pipeline: it runs, unobserved, and says so
            log.error("metrics not served", port=settings.worker_metrics_port, error=str(exc))
            return None
        log.info("metrics served", port=settings.worker_metrics_port, host=settings.worker_metrics_host)
        return settings.worker_metrics_port


def _header_pairs(headers: Iterable[tuple[str, bytes]]) -> set[tuple[bytes, bytes]]:
    return {(k.encode() if isinstance(k, str) else k, v) for k, v in headers}


def install(app: Any) -> PipelineMetrics:
    """Metrics for ``app``'s pipeline, with a timer that refreshes the consumer lag gauge."""
    metrics = PipelineMetrics()

    async def refresh_lag() -> None:
        await metrics.update_lag(app.consumer)

    app.timer(LAG_INTERVAL_SECONDS, name="casehub.metrics.lag")(refresh_lag)
    return metrics
