"""What every casehub service's Prometheus registry holds besides its own metrics, and how a service serves it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from casehub.core.logging import get_logger

log = get_logger(__name__)


def service_registry() -> CollectorRegistry:
    """A registry of one service, with the process (``process_*``: CPU, memory, open files) and Python collectors.

    Each service keeps its own registry (several can live in one process, as in tests) instead of the
    global default one, so the collectors that the default registry brings are registered here.
    """
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def serve_registry(registry: CollectorRegistry, *, host: str, port: int, service: str) -> int | None:
    """Serve ``/metrics`` on ``host:port`` in a thread (0 = off); a port in use is logged, not fatal."""
    if not port:
        return None
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:  # a port in use must not stop the service: it runs, unobserved, and says so
        log.error("metrics not served", service=service, port=port, error=str(exc))
        return None
    log.info("metrics served", service=service, host=host, port=port)
    return port
