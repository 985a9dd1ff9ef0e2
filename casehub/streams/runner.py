"""Runs the faust worker, and guards its RocksDB state against crashes.

Under exactly_once the tables' store (``faust_compat.tables.TransactionalStore``) writes RocksDB only once a write's
Kafka transaction committed, with the changelog offset it reaches: after a crash (SIGKILL, power loss) RocksDB may lag
the changelogs, never hold an aborted write, so a restart keeps it and faust restores only the changelogs' tails.
Tables written otherwise (at_least_once, or by a hub before that store: no format record in the data directory) may
hold writes whose outputs never went out, and are wiped after an unclean stop (or once, on upgrade) and restored from
their changelogs in full, which hold committed writes only (read_committed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import faust
from kafka.admin import NewTopic
from kafka.errors import BrokerNotAvailableError, KafkaError, TopicAlreadyExistsError

from casehub.core import topics
from casehub.core.errors import TransportError
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.ops.topic_plan import INTERNAL_RETENTION_MS
from casehub.ops.topics import admin_client, broker_count
from casehub.streams.app import assemble, data_dir
from casehub.streams.exceptions import WorkerConfigError
from casehub.streams.faust_compat import tables as tables_compat
from casehub.streams.topology import Pipeline

log = get_logger(__name__)
RUNNING_MARKER = "RUNNING"
STORE_FORMAT_RECORD = "STORE_FORMAT"
START_UP_RETRY_SECONDS = 60.0
"""How long the start-up checks retry while the cluster cannot answer (a broker of several down, restarting)."""
START_UP_RETRY_PAUSE_SECONDS = 3.0
T = TypeVar("T")


def _marker(settings: Settings) -> Path:
    return data_dir(settings) / RUNNING_MARKER


def _format_record(settings: Settings) -> Path:
    return data_dir(settings) / STORE_FORMAT_RECORD


def _holds_committed_writes_only(settings: Settings) -> bool:
    record = _format_record(settings)
    return settings.processing_guarantee == "exactly_once" and record.exists() and (
        record.read_text().strip() == tables_compat.STORE_FORMAT)


def discard_state_after_crash(settings: Settings, tabledir: Path) -> bool:
    """Wipe the tables when they may hold writes Kafka never committed; returns whether it did.

    Kept after an unclean stop when the transactional store wrote them; wiped after an unclean stop otherwise, and
    once when a hub before that store wrote them (whose faust never stored changelog offsets under exactly_once).
    """
    unclean = _marker(settings).exists()
    if _holds_committed_writes_only(settings):
        if unclean:
            log.warning("previous run did not stop cleanly: tables kept (they hold committed writes only); "
                        "their changelogs' tails are restored", tables=str(tabledir))
        return False
    upgrade = settings.processing_guarantee == "exactly_once" and tabledir.exists()
    if not unclean and not upgrade:
        return False
    reason = "previous run did not stop cleanly" if unclean else "tables written before the transactional store"
    log.warning(f"{reason}: restoring tables from their changelogs", tables=str(tabledir))
    shutil.rmtree(tabledir, ignore_errors=True)
    return True


def _record_store_format(settings: Settings) -> None:
    record = _format_record(settings)
    if settings.processing_guarantee == "exactly_once":
        record.write_text(tables_compat.STORE_FORMAT + "\n")
    else:
        record.unlink(missing_ok=True)


def internal_topics(app: faust.App, pipeline: Pipeline) -> list[NewTopic]:
    """The topics only this worker group uses: the intake and cell topics, and one compacted changelog per table."""
    replication = int(app.conf.topic_replication_factor)
    durable = {"min.insync.replicas": "2"} if replication >= 3 else {}
    kept = {"cleanup.policy": "delete", "retention.ms": str(INTERNAL_RETENTION_MS)}  # chosen, not the broker's default
    found = [
        NewTopic(topic.get_topic_name(), topic.partitions or app.conf.topic_partitions, replication,
                 topic_configs={**durable, **kept})
        for topic in pipeline.internal_topics()
    ]
    for table in app.tables.values():
        found.append(
            NewTopic(
                table.changelog_topic.get_topic_name(),
                table.partitions or app.conf.topic_partitions,
                replication,
                topic_configs={"cleanup.policy": "compact", **durable},
            )
        )
    return found


def ensure_internal_topics(settings: Settings, app: faust.App, pipeline: Pipeline, client: Any = None) -> None:
    """Create the internal topics before the consumer joins its group.

    faust declares them while starting, after the first assignment: a fresh group then ignores them as
    missing until the next metadata refresh, minutes later. A group that already has its intake topic
    keeps that topic's partition count for every topic it lacks (a table added by an upgrade): faust
    refuses a changelog whose partitions differ from its source topic's, and the intake cannot change.
    ``client``: an admin client already open (the worker's start-up), else one is opened for this call.
    """
    wanted = internal_topics(app, pipeline)
    intake = pipeline.intake.get_topic_name()
    opened = contextlib.nullcontext(client) if client is not None else admin_client(settings, "worker")
    with opened as admin:
        existing = set(admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if not missing:
            return
        if intake in existing:
            (described,) = admin.describe_topics([intake])
            established = len(described["partitions"])
            if established != settings.worker_partitions:
                log.warning("the worker group's topics keep their partition count", topic=intake,
                            partitions=established, configured=settings.worker_partitions)
            missing = [NewTopic(t.name, established, t.replication_factor, topic_configs=t.topic_configs)
                       for t in missing]
        with contextlib.suppress(TopicAlreadyExistsError):  # another worker of the group was first
            admin.create_topics(missing)
        log.info("internal topics created", topics=[t.name for t in missing],
                 partitions=sorted({t.num_partitions for t in missing}))


def require_topics(client: Any, pipeline: Pipeline) -> None:
    """Refuse to start, naming them, when topics the pipeline reads or writes are missing (not a crash mid-event)."""
    wanted = set(topics.HUB_TOPICS) - {topics.HUB_AUDIT}  # the auditor's: the pipeline writes hub.audit.entries
    wanted.add(topics.HUB_SUBJECT_KEYS)
    for org in pipeline.registry.partners:
        wanted.update((topics.inbound(org), topics.outbound(org)))
    missing = sorted(wanted - set(client.list_topics()))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise WorkerConfigError(
            f"{len(missing)} topic(s) the pipeline reads or writes do not exist: {shown}",
            hint="run `casehub topics apply` (and `casehub access apply`) for this registry, then start the worker",
        )


def cluster_replication(client: Any) -> int:
    """min(3, brokers) of the cluster the worker joins: its internal topics survive a broker's loss on 3 nodes."""
    brokers = broker_count(client)
    log.info("replication follows the cluster", brokers=brokers, replication=min(3, brokers))
    return min(3, brokers)


def _unreachable(error: TransportError) -> bool:
    """Whether a failed admin request says the cluster could not be reached or answer in time (worth retrying)."""
    cause = error.__cause__
    return isinstance(cause, KafkaError) and (cause.retriable or isinstance(cause, BrokerNotAvailableError))


def with_start_up_retries(check: Callable[[], T], *, seconds: float = START_UP_RETRY_SECONDS,
                          pause: float = START_UP_RETRY_PAUSE_SECONDS) -> T:
    """``check()``, tried again (a warning each time) for up to ``seconds`` while the cluster cannot be reached.

    A worker restarted while one broker of three is down must wait for the cluster, not exit: its admin
    connection may land on the dead broker, or a request may time out while leaders move.
    """
    deadline = time.monotonic() + seconds
    attempt = 1
    while True:
        try:
            return check()
        except TransportError as exc:
            if not _unreachable(exc) or time.monotonic() + pause > deadline:
                raise
            log.warning("start-up check could not reach the cluster; retrying", attempt=attempt, error=str(exc),
                        retry_in_seconds=pause)
        time.sleep(pause)
        attempt += 1


def _replication(settings: Settings) -> int:
    with admin_client(settings, "worker") as client:
        return cluster_replication(client)


def _check_topics(settings: Settings, app: faust.App, pipeline: Pipeline) -> None:
    with admin_client(settings, "worker") as client:  # one connection for both checks
        require_topics(client, pipeline)
        ensure_internal_topics(settings, app, pipeline, client)


def use_event_loop(kind: str) -> None:
    """Make ``kind`` the loop of this thread and of every thread that makes one (faust's consumer thread does).

    uvloop runs the loop, its sockets and TLS in C: the worker's per-record cost is mostly event-loop and socket
    work, not its stages (2026-12-07, 5 interleaved rounds of ``bench/pipeline.py``: 10-20% more events/s and 9-16%
    less CPU per event in 4 of them). Called before anything makes a loop: one made earlier would belong to the old policy.
    """
    if kind == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    else:
        asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    asyncio.set_event_loop(asyncio.new_event_loop())


def run_worker(settings: Settings, registry: object = None) -> int:
    """Run the pipeline until SIGTERM/SIGINT; returns the exit status (0 after a clean stop)."""
    settings.require_secret_pseudonym_key()
    use_event_loop(settings.worker_event_loop)
    if settings.topic_replication is None:
        settings = settings.model_copy(update={"topic_replication": with_start_up_retries(lambda: _replication(settings))})
    app, pipeline = assemble(settings, registry)
    with_start_up_retries(lambda: _check_topics(settings, app, pipeline))
    # every topic faust would declare exists now; its declaring (one CreateTopics request per topic, in turn,
    # while the worker starts) took seconds of each restart
    app.conf.topic_allow_declare = False
    pipeline.metrics.serve(settings)
    discard_state_after_crash(settings, Path(app.conf.tabledir))
    marker = _marker(settings)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(os.getpid()))
    _record_store_format(settings)
    worker = faust.Worker(app, loglevel=settings.log_level, override_logging=False, quiet=True, redirect_stdouts=False)
    code = 1
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    if code == 0 and app.crash_reason is None:
        marker.unlink(missing_ok=True)
        log.info("worker stopped cleanly", worker_id=settings.worker_id)
    else:
        log.error("worker stopped after a failure", code=code)
        code = code or 1
    return code
