"""The faust app of the hub: configuration from Settings, raw bytes on the wire, RocksDB tables, exactly_once."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Any

import faust
from mode import CrashingSupervisor
from mode.utils.queues import ThrowableQueue

from casehub.core import limits
from casehub.core.kafka_connection import Service, connection
from casehub.core.settings import Settings
from casehub.streams import exactly_once, faust_compat
from casehub.streams.partitioner import KeyHashPartitioner

# RocksDB sized for a small worker: faust opens one database per table and partition (5 tables x 6
# partitions = 30), each with its own write buffers and block cache; with faust's defaults (64 MB write
# buffers, a 2 GB cache each) a million dedupe keys would grow the process far past its memory budget.
# At most 30 x (2 x 1 MB memtables + 1 MB cache) = 90 MB of RocksDB memory; lookups of keys not seen
# before (most dedupe lookups) are answered by the bloom filters.
ROCKSDB_OPTIONS: dict[str, Any] = {
    "write_buffer_size": 1024 * 1024,
    "max_write_buffer_number": 2,
    "target_file_size_base": 8 * 1024 * 1024,
    "block_cache_size": 1024 * 1024,
    "max_open_files": 128,
}


def data_dir(settings: Settings) -> Path:
    """Where this worker keeps its RocksDB tables: ``<worker_data_dir or home/worker>/<worker_id>``."""
    base = settings.worker_data_dir or settings.home / "worker"
    return (base / settings.worker_id).resolve()


def replication_factor(settings: Settings) -> int:
    """Replicas for the topics faust creates itself (changelogs, intake).

    ``casehub worker`` sets ``topic_replication`` to min(3, brokers) from the cluster it joins (runner.py) unless an
    operator chose one; the local cluster's size is the fallback for an app built without a cluster.
    """
    if settings.topic_replication is not None:
        return settings.topic_replication
    return min(3, settings.broker_nodes)


def group_instance_id(settings: Settings) -> str | None:
    """The worker's static group membership id (``group.instance.id``); None = dynamic membership.

    Stable across restarts of the same worker (same host, same data dir: two workers cannot share one,
    RocksDB locks it), distinct for two workers of one group on one host.
    """
    if settings.worker_instance_id is not None:
        return settings.worker_instance_id or None
    digest = hashlib.sha256(str(data_dir(settings)).encode()).hexdigest()[:8]
    return f"{settings.worker_id}-{socket.gethostname()}-{digest}"


def member_url(settings: Settings) -> str | None:
    """How the group's assignor names this worker (faust's canonical URL): by its instance id, not its web port.

    faust's assignor puts each member's URL into the assignment it hands out and refuses one that names another
    URL; a static member restarted on another web port gets its old assignment back, and its consumer would stop
    on that refusal (an AssertionError in aiokafka's coordinator routine) and never become ready.
    """
    instance = group_instance_id(settings)
    return None if instance is None else f"http://{socket.gethostname()}/{instance}"


def standby_replicas(settings: Settings) -> int:
    """Standby replicas per table partition: one or two of the other workers the group expects keep a copy."""
    return min(2, settings.worker_group_size - 1)


def base_app(settings: Settings, service: Service = "worker") -> faust.App:
    """A faust App configured from ``settings`` with no agents yet (the topology adds them), connecting as
    ``service``'s principal (the audit sealer is a faust app of its own)."""
    faust_compat.self_check()
    data_dir(settings).mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.worker_id,
        **connection(settings, service).faust(),
        store="rocksdb://",
        Table=exactly_once.TransactionalTable,
        datadir=str(data_dir(settings)),
        processing_guarantee=settings.processing_guarantee,
        topic_partitions=settings.worker_partitions,
        topic_replication_factor=replication_factor(settings),
        topic_disable_leader=True,
        table_standby_replicas=standby_replicas(settings),
        key_serializer="raw",
        value_serializer="raw",
        broker_commit_interval=settings.worker_commit_interval,
        broker_commit_every=1000,
        broker_session_timeout=settings.worker_session_timeout,
        consumer_group_instance_id=group_instance_id(settings),
        broker_heartbeat_interval=settings.worker_session_timeout / 4,
        consumer_auto_offset_reset="earliest",
        producer_linger_ms=settings.worker_linger_ms,
        producer_partitioner=KeyHashPartitioner(),  # the default partitioner, without pure-Python murmur2 per record
        producer_max_batch_size=1024 * 1024,
        # dead letters of records a partner topic took (up to the broker's limit) fit (core/limits.py)
        producer_max_request_size=limits.PRODUCER_MAX_REQUEST_BYTES,
        stream_wait_empty=True,
        web_enabled=True,
        web_host=settings.worker_web_host,
        web_bind=settings.worker_web_host,  # web_host only names the URL; without web_bind faust listens on 0.0.0.0
        web_port=settings.worker_web_port,
        canonical_url=member_url(settings),
        web_in_thread=False,
        autodiscover=False,
        # a crashed agent stops the worker (and its process) instead of leaving its partitions unread
        agent_supervisor=CrashingSupervisor,
        logging_config=None,
    )
    exactly_once.install(app)
    faust_compat.install(app)
    _keep_queued_records_on_resume(app)
    return app


def _keep_queued_records_on_resume(app: faust.App) -> None:
    """Stream queues keep their records when processing resumes after a rebalance or table recovery.

    faust clears them, trusting a seek to fetch the records again; when the seek runs before the clear,
    the re-fetched records are cleared too and their offsets are later committed as gaps: lost events.
    Kept, a record may instead be processed twice, which the dedupe stage absorbs.
    """

    def queue(maxsize: int | None = None, *, clear_on_resume: bool = False) -> ThrowableQueue:
        return ThrowableQueue(maxsize=maxsize, flow_control=app.flow_control, clear_on_resume=False)

    app.FlowControlQueue = queue  # type: ignore[method-assign]


def assemble(settings: Settings, registry: Any = None) -> tuple[faust.App, Any]:
    """The hub's faust app and its :class:`~casehub.streams.topology.Pipeline` (topics, tables, agents, timer)."""
    from casehub.streams.topology import build

    if registry is None:
        from casehub.registry import load_registry

        registry = load_registry(settings)
    app = base_app(settings)
    return app, build(app, settings, registry)


def create_app(settings: Settings, registry: Any = None) -> faust.App:
    """The hub's faust app: ``base_app`` plus the pipeline's topics, tables, agents and timers."""
    return assemble(settings, registry)[0]
