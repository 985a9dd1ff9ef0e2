"""Prometheus metrics of the webhook dispatcher: attempts by verdict, their latency, dead letters, events in flight."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

from casehub.core.metrics import serve_registry, service_registry
from casehub.core.settings import Settings

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class WebhookMetrics:
    """The dispatcher's counters in a registry of their own, with the process's metrics (``process_*``).

    Labels are bounded: verdicts and exception classes, never partners or URLs.
    """

    def __init__(self) -> None:
        self.registry = service_registry()
        r = self.registry
        self.attempts = Counter("casehub_webhook_attempts", "POST attempts by verdict (delivered, retry, permanent)",
                                ["verdict"], registry=r)
        self.attempt_seconds = Histogram("casehub_webhook_attempt_seconds", "Time of one POST, to its answer or failure",
                                         buckets=LATENCY_BUCKETS, registry=r)
        self.dead_letters = Counter("casehub_webhook_dead_letters", "Events sent to hub.dlq, by reason (exception class)",
                                    ["reason"], registry=r)
        self.in_flight = Gauge("casehub_webhook_in_flight", "Events read but not yet delivered or dead-lettered",
                               registry=r)

    def attempted(self, verdict: str, latency_ms: float) -> None:
        self.attempts.labels(verdict).inc()
        self.attempt_seconds.observe(latency_ms / 1000.0)

    def dead_lettered(self, reason: str) -> None:
        self.dead_letters.labels(reason).inc()

    def follow_in_flight(self, count: Callable[[], int]) -> None:
        """Read the in-flight gauge from ``count`` at every scrape."""
        self.in_flight.set_function(count)

    def serve(self, settings: Settings) -> int | None:
        """Expose ``/metrics`` on ``settings.webhook_metrics_port`` (loopback unless configured; 0 = off)."""
        return serve_registry(self.registry, host=settings.webhook_metrics_host, port=settings.webhook_metrics_port,
                              service="webhooks")
