"""Prometheus metrics of one gateway (its own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from casehub.core.metrics import service_registry

CONTENT_TYPE = CONTENT_TYPE_LATEST


class GatewayMetrics:
    """Requests by route and status, events accepted/rejected by partner, produce latency, open streams; the process."""

    def __init__(self) -> None:
        self.registry = service_registry()
        self.requests = Counter(
            "casehub_gateway_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.events = Counter(
            "casehub_gateway_events",
            "Events by partner and outcome (accepted, already_submitted, rejected)",
            ["partner", "outcome"],
            registry=self.registry,
        )
        self.produce_seconds = Histogram(
            "casehub_gateway_produce_seconds",
            "Time from the first send to the last acks=all acknowledgement of one request's events",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.streams = Gauge("casehub_gateway_streams_open", "Open SSE streams", registry=self.registry)
        self.cases_known = Gauge("casehub_gateway_cases_known", "Cases in the cases.state view", registry=self.registry)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
