"""Per-case lanes (one case's events in order, cases side by side) and the commit point of each partition."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord, TopicPartition

Record: TypeAlias = "ConsumerRecord[Any, Any]"
LaneId: TypeAlias = tuple[TopicPartition, bytes | None]


class PartitionProgress:
    """Offsets of one partition read but not yet finished; the commit point is the lowest of them.

    A record is finished when delivered or dead-lettered. Committing ``committable()`` therefore never
    skips a record whose case is still waiting, however far other cases of the partition have got.
    """

    def __init__(self) -> None:
        self.pending: set[int] = set()
        self.next_offset: int | None = None
        self.committed: int | None = None

    def started(self, offset: int) -> None:
        self.pending.add(offset)

    def finished(self, offset: int) -> None:
        self.pending.discard(offset)
        self.next_offset = max(self.next_offset or 0, offset + 1)

    def committable(self) -> int | None:
        """The offset to commit (next to read), or None if nothing changed since the last commit."""
        if self.next_offset is None:  # nothing finished yet: nothing to commit
            return None
        point = min(self.pending) if self.pending else self.next_offset
        return None if point == self.committed else point


class Lanes:
    """Runs ``deliver`` for each record: sequentially within a lane (topic-partition + case key), concurrently across lanes."""

    def __init__(self, deliver: Callable[[Record], Awaitable[None]], on_failure: Callable[[BaseException], None]) -> None:
        self._deliver = deliver
        self._on_failure = on_failure
        self._queues: dict[LaneId, deque[Record]] = {}
        self._tasks: dict[LaneId, asyncio.Task[None]] = {}
        self.progress: dict[TopicPartition, PartitionProgress] = {}
        self._progressed = asyncio.Event()

    @property
    def in_flight(self) -> int:
        """Records read and not yet finished, over every partition."""
        return sum(len(p.pending) for p in self.progress.values())

    async def wait_for_progress(self, timeout: float) -> None:
        """Return once some record finishes (or after ``timeout`` seconds)."""
        self._progressed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progressed.wait(), timeout)

    def submit(self, record: Record) -> None:
        """Queue ``record`` behind the earlier records of its case."""
        tp = TopicPartition(record.topic, record.partition)
        self.progress.setdefault(tp, PartitionProgress()).started(record.offset)
        lane: LaneId = (tp, record.key)
        queue = self._queues.get(lane)
        if queue is not None:
            queue.append(record)
            return
        self._queues[lane] = deque([record])
        task = asyncio.create_task(self._drain(lane), name=f"webhook-lane-{tp.topic}-{tp.partition}")
        self._tasks[lane] = task
        task.add_done_callback(self._done)

    async def _drain(self, lane: LaneId) -> None:
        queue = self._queues[lane]
        try:
            while queue:
                record = queue[0]
                await self._deliver(record)
                queue.popleft()
                self.progress[lane[0]].finished(record.offset)
                self._progressed.set()
        finally:
            self._queues.pop(lane, None)
            self._tasks.pop(lane, None)

    def _done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._on_failure(task.exception())  # type: ignore[arg-type]

    async def cancel(self, partitions: set[TopicPartition] | None = None) -> None:
        """Stop the lanes of ``partitions`` (all when None); their unfinished records stay uncommitted."""
        chosen = [task for (tp, _key), task in list(self._tasks.items()) if partitions is None or tp in partitions]
        for task in chosen:
            task.cancel()
        await asyncio.gather(*chosen, return_exceptions=True)

    def forget(self, partitions: set[TopicPartition]) -> None:
        """Drop the progress of partitions this member no longer owns."""
        for tp in partitions:
            self.progress.pop(tp, None)

    def commit_points(self, partitions: set[TopicPartition] | None = None) -> dict[TopicPartition, int]:
        """``{tp: offset}`` that moved since the last commit."""
        points = {}
        for tp, progress in self.progress.items():
            if partitions is not None and tp not in partitions:
                continue
            point = progress.committable()
            if point is not None:
                points[tp] = point
        return points

    def committed(self, points: dict[TopicPartition, int]) -> None:
        for tp, offset in points.items():
            if tp in self.progress:
                self.progress[tp].committed = offset
