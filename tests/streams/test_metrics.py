"""Prometheus metrics of the worker: the counters the stages feed, and a real worker's /metrics endpoint."""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Iterator

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.streams.core import Output
from casehub.streams.metrics import PipelineMetrics, topic_kind
from tests.kafka_helpers import produce
from tests.streams.conftest import Hub, start_hub
from tests.streams.harness import free_port, publish, report


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_topic_labels_are_bounded() -> None:
    assert topic_kind("partner.tc-840502.outbound") == "partner.outbound"
    assert topic_kind("partner.lao-x.inbound") == "partner.inbound"
    assert topic_kind(topics.CASES_EVENTS) == "cases.events"
    assert topic_kind("w1234-intake") == "intake"
    assert topic_kind("w1234-dedupe-changelog") == "changelog"
    assert topic_kind("w1234-commands") == "commands"


def test_core_outputs_count_deliveries_dedupe_hits_and_latency() -> None:
    metrics = PipelineMetrics()
    delivered = [Output(topics.CASES_EVENTS, b"c", b"v", [("ce_type", b"case.reported")]),
                 Output("partner.tc-840502.outbound", b"c", b"v", []), Output(topics.HUB_AUDIT_ENTRIES, b"c", b"{}", [])]
    linked = [Output(topics.CASES_EVENTS, b"c", b"v", [("ce_type", b"case.linked")])]
    metrics.core_done(delivered, received=f"{time.time() - 0.2:.3f}".encode())
    metrics.core_done([], received=None)
    metrics.core_done(linked, received=None)
    found = samples(_exposition(metrics))
    assert value(found, "casehub_events_out_total", stage="core", topic="partner.outbound") == 1
    assert value(found, "casehub_events_out_total", stage="core", topic="cases.events") == 2
    assert value(found, "casehub_dedupe_hits_total", kind="exact") == 1
    assert value(found, "casehub_dedupe_hits_total", kind="near") == 1
    assert value(found, "casehub_end_to_end_latency_seconds_count") == 1
    assert value(found, "casehub_end_to_end_latency_seconds_bucket", le="0.1") == 0
    assert value(found, "casehub_end_to_end_latency_seconds_bucket", le="0.25") == 1


def test_a_metrics_port_in_use_does_not_stop_the_worker(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        served = PipelineMetrics().serve(settings.model_copy(update={"worker_metrics_port": port}))
    assert served is None
    assert PipelineMetrics().serve(settings.model_copy(update={"worker_metrics_port": 0})) is None


def _exposition(metrics: PipelineMetrics) -> str:
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()


@pytest.fixture(scope="module")
def metered(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, int]]:
    port = free_port()
    running = start_hub(settings, tmp_path_factory.mktemp("metrics-hub"), {"CASEHUB_WORKER_METRICS_PORT": str(port)})
    yield running, port
    running.worker.stop()


def scrape(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return samples(response.read().decode())


def wait_for(port: int, check, timeout: float = 60.0) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    found = scrape(port)
    while time.monotonic() < deadline and not check(found):
        time.sleep(0.5)
        found = scrape(port)
    return found


def test_a_worker_exposes_stage_counts_dlq_dedupe_latency_and_lag(metered: tuple[Hub, int]) -> None:
    hub, port = metered
    event = report()
    publish(hub.settings, hub.lao, [event, event])  # a partner's retry: one exact duplicate
    produce(hub.settings, topics.inbound(hub.lao), [(b"k", b"not a cloudevent", [])])

    found = wait_for(port, lambda f: value(f, "casehub_dedupe_hits_total", kind="exact") >= 1
                     and value(f, "casehub_dlq_records_total", stage="validate", reason="DecodeError") >= 1
                     and value(f, "casehub_end_to_end_latency_seconds_count") >= 1)

    assert value(found, "casehub_events_in_total", stage="validate") >= 3
    assert value(found, "casehub_events_in_total", stage="core") >= 2
    assert value(found, "casehub_events_out_total", stage="core", topic="partner.outbound") >= 1
    assert value(found, "casehub_events_out_total", stage="core", topic="hub.audit.entries") >= 1
    assert value(found, "casehub_dedupe_hits_total", kind="exact") >= 1
    assert value(found, "casehub_dlq_records_total", stage="validate", reason="DecodeError") >= 1
    assert value(found, "casehub_end_to_end_latency_seconds_sum") > 0
    # every commit that carried those events held the worker's events back for a measured time
    assert value(found, "casehub_commit_seconds_count") >= 1 and value(found, "casehub_commit_seconds_sum") > 0
    lagged = wait_for(port, lambda f: any(name == "casehub_consumer_lag" for name, _ in f), timeout=20)
    lag_topics = {dict(labels)["topic"] for name, labels in lagged if name == "casehub_consumer_lag"}
    # one series per topic kind, however many partners: never a partner's own topic
    assert "partner.inbound" in lag_topics and "intake" in lag_topics
    assert all(hub.lao not in topic for topic in lag_topics)
    assert all(set(dict(labels)) == {"topic"} for name, labels in lagged if name == "casehub_consumer_lag")
    assert value(lagged, "process_cpu_seconds_total") > 0 and value(lagged, "process_resident_memory_bytes") > 0
    # the consumer fetches in sessions (KIP-227): after the one that opened it, each fetch names only what moved
    fetched = wait_for(port, lambda f: value(f, "casehub_fetch_requests_total", session="incremental") >= 20,
                       timeout=20)
    full = value(fetched, "casehub_fetch_requests_total", session="full")
    assert 1 <= full < value(fetched, "casehub_fetch_requests_total", session="incremental") / 10


def test_the_worker_listens_on_loopback_only(metered: tuple[Hub, int]) -> None:
    hub, port = metered
    assert hub.worker.process is not None
    listening = [c.laddr for c in psutil.Process(hub.worker.process.pid).net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
    assert port in {address.port for address in listening}  # /metrics
    assert len(listening) >= 2  # and faust's web server
    assert {address.ip for address in listening} == {"127.0.0.1"}


def test_the_worker_runs_on_uvloop_by_default(metered: tuple[Hub, int]) -> None:
    hub, _ = metered
    assert '"event_loop": "uvloop"' in hub.worker.log_text()
    assert '"event_loop": "asyncio"' not in hub.worker.log_text()
