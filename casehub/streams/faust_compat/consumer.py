"""faust's consumer: its offset bookkeeping (committed, acked, gaps), its seek and commit hooks, its highwaters."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any, Protocol, cast

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from casehub.streams.faust_compat import fetch_sessions

USES: tuple[tuple[str, str], ...] = (
    ("faust.transport.consumer:Consumer", "_committed_offset"),
    ("faust.transport.consumer:Consumer", "_acked"),
    ("faust.transport.consumer:Consumer", "_acked_index"),
    ("faust.transport.consumer:Consumer", "_gap"),
    ("faust.transport.consumer:Consumer", "_new_offset"),
    ("faust.transport.consumer:Consumer", "perform_seek"),
    ("faust.transport.consumer:Consumer", "force_commit"),
    ("faust.transport.drivers.aiokafka:AIOKafkaConsumerThread", "_highwaters"),
    ("faust.transport.drivers.aiokafka:AIOKafkaConsumerThread", "_ensure_consumer"),
    ("faust.transport.drivers.aiokafka:AIOKafkaConsumerThread", "seek_wait"),
    ("faust.transport.drivers.aiokafka:Consumer", "_new_consumer_thread"),
    ("faust.transport.drivers.aiokafka:Consumer", "_thread"),
    ("faust.transport.drivers.aiokafka:AIOKafkaConsumerThread", "_create_worker_consumer"),
    ("faust.transport.consumer:Consumer", "verify_all_partitions_active"),
    ("faust.transport.consumer:Consumer", "verify_event_path"),
    ("aiokafka.consumer.consumer:AIOKafkaConsumer", "_fetch_min_bytes"),
    ("aiokafka.consumer.consumer:AIOKafkaConsumer", "_fetch_max_wait_ms"),
)
"""(where, name) of everything this module touches that faust does not promise to keep."""

ForceCommit = Callable[..., Awaitable[bool]]
PerformSeek = Callable[[], Awaitable[None]]


class Intervals(Protocol):
    """faust's gap record of one partition (an ``intervaltree.IntervalTree``)."""

    def addi(self, begin: int, end: int) -> None: ...

    def __iter__(self) -> Any: ...


class Bookkeeping(Protocol):
    """faust's private record of what a consumer committed, acked and skipped, per partition."""

    _committed_offset: MutableMapping[TP, int | None]
    _acked: MutableMapping[TP, list[int]]
    _acked_index: MutableMapping[TP, set[int]]
    _gap: MutableMapping[TP, Intervals]

    def _new_offset(self, tp: TP) -> int | None: ...


class FaustConsumer(Protocol):
    """What casehub calls on faust's consumer (``app.consumer``) besides its bookkeeping."""

    def assignment(self) -> set[TP]: ...

    async def seek(self, partition: TP, offset: int) -> None: ...

    async def perform_seek(self) -> None: ...

    async def force_commit(self, *args: Any, **kwargs: Any) -> bool: ...


class OffsetsConsumer(Protocol):
    """The aiokafka consumer faust's thread wraps: what the read_committed highwaters need of it."""

    async def end_offsets(self, partitions: Iterable[Any]) -> Mapping[Any, int]: ...


def _books(consumer: object) -> Bookkeeping:
    return cast(Bookkeeping, consumer)


def committed_offset(consumer: object, tp: TP) -> int | None:
    """The offset faust believes committed for ``tp`` (None before it read one)."""
    return _books(consumer)._committed_offset.get(tp)


def committed_offsets(consumer: object) -> dict[TP, int]:
    """Every partition's committed offset faust knows of."""
    return {tp: offset for tp, offset in _books(consumer)._committed_offset.items() if offset is not None}


def keep_committed_offset(consumer: object, tp: TP, offset: int) -> None:
    """Overwrite faust's record of ``tp``'s committed offset (after seeking it there)."""
    _books(consumer)._committed_offset[tp] = offset


def acked_offsets(consumer: object, tp: TP) -> Sequence[int]:
    """The offsets of ``tp`` acked since its last commit (faust's own list, read on every commit: not copied)."""
    return _books(consumer)._acked.get(tp) or ()


def is_acked(consumer: object, tp: TP, offset: int) -> bool:
    """Whether ``offset`` of ``tp`` was acked and not yet committed."""
    return offset in (_books(consumer)._acked_index.get(tp) or ())


def gaps(consumer: object, tp: TP) -> list[tuple[int, int]]:
    """The offset ranges of ``tp`` faust counts as done without a record (read_committed skipped them)."""
    return [(i.begin, i.end) for i in sorted(_books(consumer)._gap.get(tp) or [])]


def count_as_acked(consumer: object, tp: TP, begin: int, end: int) -> None:
    """Record ``[begin, end)`` of ``tp`` as a gap: never delivered, so done for the next commit."""
    _books(consumer)._gap[tp].addi(begin, end)


def before_new_offset(consumer: object, hook: Callable[[TP], None]) -> None:
    """Run ``hook(tp)`` each time faust computes the offset it is about to commit for ``tp``."""
    books = _books(consumer)
    new_offset = books._new_offset

    def new_offset_after_hook(tp: TP) -> int | None:
        hook(tp)
        return new_offset(tp)

    books._new_offset = new_offset_after_hook  # type: ignore[method-assign]


def around_force_commit(consumer: FaustConsumer, around: Callable[[ForceCommit], ForceCommit]) -> None:
    """Replace faust's commit with ``around(its commit)``."""
    consumer.force_commit = around(consumer.force_commit)  # type: ignore[method-assign,assignment]


def around_perform_seek(consumer: FaustConsumer, around: Callable[[PerformSeek], PerformSeek]) -> None:
    """Replace faust's seek to the committed offsets with ``around(its seek)``."""
    consumer.perform_seek = around(consumer.perform_seek)  # type: ignore[method-assign,assignment]


FETCH_MIN_BYTES = 256 * 1024
FETCH_MAX_WAIT_MS = 25
"""A fetch waits up to FETCH_MAX_WAIT_MS for FETCH_MIN_BYTES (faust: 1 byte, 1.5 s).

A worker is assigned ~1,440 partitions (one per partner's inbound topic). Fetches run in sessions
(``fetch_sessions``): a round costs CPU for what moved, not for every partition; before them each round encoded
and decoded all 1,440 entries (1-2 ms of CPU). With faust's settings a fetch came back as soon as one record had
arrived, under load one round per broker round trip; now at most 40 rounds a second, each record waiting at most
FETCH_MAX_WAIT_MS more per hop; a backlog (catching up, table recovery) still comes back at once. One byte and
100 ms measured no better (2026-12-07: latency at 200 events/s p99 251 vs 237 ms)."""

LIVELOCK_CHECK_SECONDS = 30.0
"""How often faust's stalled-partition check runs (faust: every 2.5 commit intervals, 8 times a second).

It walks every assigned partition with a loop turn for each (an epoll call each time, ~11,000 a second); what
it reports (a partition with no progress for ``stream_processing_timeout``, 5 minutes) is still reported."""


class ReadCommittedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):  # type: ignore[misc]
    """faust's consumer thread, with highwaters that are never None under exactly_once, and fetches that batch, in
    sessions.

    Under exactly_once faust reads a highwater as the consumer's ``last_stable_offset``, which is None until the
    partition's first fetch; table recovery turns that into -1 and raises ConsistencyError on almost every
    rebalance (faust-streaming/faust#158). ListOffsets under read_committed answers the same last stable offset
    at any time. Fetches: see FETCH_MIN_BYTES.
    """

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_min_bytes = FETCH_MIN_BYTES  # read by consumer.start(), which builds its fetcher
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        self.fetch_planner = fetch_sessions.install_on_start(consumer)
        return consumer

    async def _highwaters(self, partitions: list[Any]) -> Mapping[Any, int]:
        consumer: OffsetsConsumer = self._ensure_consumer()
        found: Mapping[Any, int] = await consumer.end_offsets(partitions)
        return found

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        """faust's seek for table recovery, never to a negative offset (the start of the changelog instead).

        Recovery starts at "earliest offset - 1" and turns only -1 into 0; a lower start (seen in chaos runs, a
        restarted worker or the survivor of a rebalance while a broker was down) made aiokafka refuse the seek
        ("Offset must be a positive integer") and the worker crash; a start of None (no offset known, seen once in
        a test-suite chaos run) made the comparison itself raise TypeError. Both read the changelog from its start.
        """
        await super().seek_wait({tp: max(offset, 0) if offset is not None else 0 for tp, offset in partitions.items()})


def fetch_requests(consumer: object) -> dict[str, int]:
    """How many fetches faust's consumer (``app.consumer``) sent that opened a session (``full``) and that named
    only what changed (``incremental``), over every broker; empty before the consumer started."""
    planner = getattr(getattr(consumer, "_thread", None), "fetch_planner", None)
    return planner.requests() if planner is not None else {}


def install(app: Any) -> None:
    """Make ``app``'s consumers use :class:`ReadCommittedConsumerThread` and check for stalled partitions every
    LIVELOCK_CHECK_SECONDS (before the consumer is created)."""
    base = app.transport.Consumer

    def _new_consumer_thread(self: Any) -> ReadCommittedConsumerThread:
        return ReadCommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)

    last_check = [time.monotonic()]

    async def verify_all_partitions_active(self: Any) -> None:
        now = time.monotonic()
        if now - last_check[0] < LIVELOCK_CHECK_SECONDS:
            return
        last_check[0] = now
        for tp in self.assignment():  # in one turn: each check is a few dictionary reads
            if self.should_stop:
                return
            self.verify_event_path(now, tp)

    app.transport.Consumer = type("ReadCommittedConsumer", (base,), {
        "_new_consumer_thread": _new_consumer_thread, "verify_all_partitions_active": verify_all_partitions_active,
    })
