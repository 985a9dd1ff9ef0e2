"""Tables inside Kafka transactions: changelog writes join the event's transaction, RocksDB takes committed writes only.

A table write is kept in memory (``faust_compat.tables.TransactionalStore``) until the transaction that carries its
changelog record commits; then it goes to RocksDB with the changelog offset it reaches. A transaction that never
commits (fenced, its partition revoked, the worker killed) leaves RocksDB as it was: a restart after a crash keeps the
tables and faust restores only the changelog's tail, from the stored offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from types import SimpleNamespace
from typing import Any, NamedTuple

from faust import Table
from faust.types import TP

from casehub.streams.faust_compat import tables as tables_compat


class Outgoing(NamedTuple):
    """One record to produce; ``on_sent`` gets the delivery future (table changelogs track their offsets)."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()
    partition: int | None = None
    on_sent: Callable[[Any], None] | None = None


class TransactionalTable(Table):  # type: ignore[misc]
    """A faust Table whose changelog writes go out with the event's other outputs, in its transaction, and whose
    store (``casehub-rocksdb:<name>``) keeps an open transaction's writes out of RocksDB until it commits.

    faust queues changelog writes in its producer buffer and publishes them one at a time through its generic path;
    under load the buffer fills ("producer buffer full") and every stream waits for it. Here they are collected; the
    pipeline sends them after each event (:meth:`take_changelog`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("store", tables_compat.store_url(kwargs["name"]))
        super().__init__(*args, **kwargs)
        self._pending_changelog: list[tuple[int, Any, Any]] = []

    def send_changelog(self, partition: int | None, key: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        # tables here never use the partitioner: the changelog partition is the event's source partition
        self._pending_changelog.append((int(partition or 0), key, value))
        return SimpleNamespace(message=SimpleNamespace(partition=partition))  # what faust reads back

    def take_changelog(self) -> list[Outgoing]:
        """The changelog records of the writes since the last call, ready to send."""
        pending, self._pending_changelog = self._pending_changelog, []
        topic = self.changelog_topic.get_topic_name()
        return [
            Outgoing(topic, key, value, (), partition, partial(self._changelog_sent, TP(topic, partition)))
            for partition, key, value in pending
        ]

    def _changelog_sent(self, tp: TP, future: Any) -> None:
        if future.cancelled() or future.exception() is not None:
            return  # the transaction fails and the worker stops; the offset must not advance
        tables_compat.note_changelog_offset(self, tp.partition, future.result().offset)


def tables_of(app: Any, transactional_id: str, partitions: Iterable[int],
              transactional_id_for: Callable[[TP], str]) -> list[tuple[Any, int]]:
    """(table, partition) of every table partition whose changelog records go into ``transactional_id``."""
    found = []
    for table in app.tables.values():
        topic = table.changelog_topic.get_topic_name()
        found += [(table, p) for p in sorted(set(partitions)) if transactional_id_for(TP(topic, p)) == transactional_id]
    return found


def commit_tables(found: Iterable[tuple[Any, int]]) -> int:
    """Their transaction committed: the table partitions' writes go to RocksDB; returns how many."""
    return sum(tables_compat.commit_partition(table, partition) for table, partition in found)


def drop_tables(found: Iterable[tuple[Any, int]]) -> int:
    """Their transaction will never commit: the table partitions' writes are forgotten; returns how many."""
    return sum(tables_compat.drop_uncommitted(table, partition) for table, partition in found)
