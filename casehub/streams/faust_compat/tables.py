"""faust's RocksDB store made transactional: RocksDB holds committed table state only, read in key order.

faust writes RocksDB on every table write, before the Kafka transaction that carries the write's changelog record
commits; after a crash RocksDB may hold writes of transactions Kafka then aborted. :class:`TransactionalStore` (the
idea of Kafka's KIP-892) keeps the writes of each partition's open transaction in memory, in front of RocksDB (reads
see them first, deletes are tombstones); once that transaction commits, :func:`commit_partition` writes them to
RocksDB in one atomic WriteBatch together with the changelog offset they reach. A fenced or revoked partition's
writes are dropped (:func:`drop_uncommitted`). RocksDB may lag the changelog after a crash, never lead it: faust's
recovery replays the changelog (read_committed) from the stored offset.

faust's recovery ends only after its changelog reader found nothing to read twice in a row, 5 s each time: a
changelog that ends in transaction markers (every one under exactly_once) or aborted records (after a crash) keeps
it waiting 10 s even with nothing to restore. :data:`RECOVERY_IDLE_SECONDS` shortens that wait.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from operator import itemgetter
from typing import Any, Protocol, cast

import rocksdict
from faust.stores import STORES
from faust.stores.rocksdb import Store as RocksStore
from faust.streams import current_event
from faust.tables import recovery as faust_recovery
from faust.types import TP

from casehub.core.logging import get_logger
from casehub.streams.exceptions import FaustIncompatible

USES: tuple[tuple[str, str], ...] = (
    ("faust.stores.rocksdb:Store", "_dbs"),
    ("faust.stores.rocksdb:Store", "_db_for_partition"),
    ("faust.stores.rocksdb:Store", "_key_index"),
    ("faust.stores.rocksdb:Store", "offset_key"),
    ("faust.stores.rocksdb:Store", "use_rocksdict"),
    ("faust.stores.rocksdb:Store", "_get"),
    ("faust.stores.rocksdb:Store", "_set"),
    ("faust.stores.rocksdb:Store", "_del"),
    ("faust.stores.rocksdb:Store", "_contains"),
    ("faust.stores.rocksdb:Store", "_iterkeys"),
    ("faust.stores.rocksdb:Store", "_itervalues"),
    ("faust.stores.rocksdb:Store", "_iteritems"),
    ("faust.stores.rocksdb:Store", "_size"),
    ("faust.stores.rocksdb:Store", "apply_changelog_batch"),
    ("faust.stores.rocksdb:Store", "on_recovery_completed"),
    ("mode.utils.imports:FactoryMapping", "aliases"),
    ("faust.tables.recovery:Recovery", "_slurp_changelogs"),
)
"""(where, name) of everything this module touches that faust does not promise to keep."""

STORE_SCHEME = "casehub-rocksdb"
"""The store URL scheme of :class:`TransactionalStore` (``casehub-rocksdb:<table>``: the files of ``rocksdb://``)."""
STORE_FORMAT = "transactional-1"
"""What a data directory written by :class:`TransactionalStore` records (runner.py): its RocksDB holds committed
writes only, so a restart after a crash keeps it."""

RECOVERY_IDLE_SECONDS = 0.5
"""How long faust's changelog reader waits for a record before it checks whether recovery is done (faust: 5 s)."""
_FAUST_IDLE_WAIT = "changelog_queue.get(), timeout=5.0"

log = get_logger(__name__)
_ABSENT: Any = object()


class PartitionKeys(Protocol):
    """One partition of a table, its keys read in order."""

    def keys(self) -> Iterable[bytes]: ...


class _Database(Protocol):
    def keys(self) -> Iterable[bytes]: ...

    def items(self) -> Iterable[tuple[bytes, bytes]]: ...

    def get(self, key: bytes) -> bytes | None: ...

    def delete(self, key: bytes) -> None: ...

    def write(self, batch: Any) -> None: ...


class TransactionalStore(RocksStore):  # type: ignore[misc]
    """faust's RocksDB store whose writes of an open transaction stay in memory until it commits.

    Without transactions (``processing_guarantee`` at_least_once) it writes through, as faust's store does.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.use_rocksdict:  # commit_partition writes rocksdict WriteBatches
            raise FaustIncompatible("faust opened the tables with python-rocksdb, not rocksdict",
                                    hint="install rocksdict (pip install -e .) and leave the store's driver unset")
        shorten_recovery_idle_wait()
        self.uncommitted: dict[int, dict[bytes, bytes | None]] = {}
        """Per partition: the writes of its open transaction (None: deleted)."""
        self.changelog_offsets: dict[int, int] = {}
        """Per partition: the changelog offset the open transaction's writes reach (acknowledged sends)."""
        self.restored: Counter[int] = Counter()
        """Changelog records applied to active partitions since the last recovery completed."""

    # writes and reads of the event being processed

    def _staging(self) -> bool:
        return bool(self.app.in_transaction)

    def _set(self, key: bytes, value: bytes | None) -> None:
        event = current_event()
        if event is None or not self._staging():
            super()._set(key, value)
            return
        partition = event.message.partition
        self._key_index[key] = partition
        self.uncommitted.setdefault(partition, {})[key] = value

    def _del(self, key: bytes) -> None:
        event = current_event()
        if event is None or not self._staging():
            super()._del(key)
            return
        self.uncommitted.setdefault(event.message.partition, {})[key] = None

    def _uncommitted_value(self, key: bytes) -> bytes | None:
        if not self.uncommitted:
            return cast(bytes | None, _ABSENT)
        event = current_event()
        if event is not None:
            return self.uncommitted.get(event.message.partition, {}).get(key, _ABSENT)
        for writes in self.uncommitted.values():
            if key in writes:
                return writes[key]
        return cast(bytes | None, _ABSENT)

    def _get(self, key: bytes) -> bytes | None:
        found = self._uncommitted_value(key)
        return cast(bytes | None, super()._get(key)) if found is _ABSENT else found

    def _contains(self, key: bytes) -> bool:
        found = self._uncommitted_value(key)
        return bool(super()._contains(key)) if found is _ABSENT else found is not None

    # iteration (active partitions, uncommitted writes included)

    def active_partitions(self) -> list[int]:
        """The partitions of this table this worker owns (standby replicas left out), in order."""
        actives = self.app.assignor.assigned_actives()
        topic = self.table.changelog_topic.get_topic_name()
        return sorted(p for p in self._dbs if TP(topic, p) in actives or self.table.is_global)

    def partition_items(self, partition: int) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) of one partition in key order: RocksDB's, overlaid with the open transaction's writes."""
        db = cast(_Database | None, self._dbs.get(partition))
        writes = self.uncommitted.get(partition, {})
        stored = ((k, v) for k, v in (db.items() if db is not None else ()) if k != self.offset_key and k not in writes)
        staged = sorted((k, v) for k, v in writes.items() if v is not None)
        return heapq.merge(stored, staged, key=itemgetter(0))

    def partition_keys(self, partition: int) -> Iterator[bytes]:
        """The keys of one partition in key order (values not read)."""
        db = cast(_Database | None, self._dbs.get(partition))
        writes = self.uncommitted.get(partition, {})
        stored = (k for k in (db.keys() if db is not None else ()) if k != self.offset_key and k not in writes)
        return heapq.merge(stored, sorted(k for k, v in writes.items() if v is not None))

    def _iteritems(self) -> Iterator[tuple[bytes, bytes]]:
        for partition in self.active_partitions():
            yield from self.partition_items(partition)

    def _iterkeys(self) -> Iterator[bytes]:
        for partition in self.active_partitions():
            yield from self.partition_keys(partition)

    def _itervalues(self) -> Iterator[bytes]:
        for _, value in self._iteritems():
            yield value

    def _size(self) -> int:
        return sum(1 for _ in self._iterkeys())

    # transactions

    def note_changelog_offset(self, partition: int, offset: int) -> None:
        """A changelog record of ``partition`` was acknowledged at ``offset``."""
        if not self._staging():
            self.set_persisted_offset(TP(self.table.changelog_topic.get_topic_name(), partition), offset)
        elif offset > self.changelog_offsets.get(partition, -1):
            self.changelog_offsets[partition] = offset

    def commit_partition(self, partition: int) -> int:
        """The partition's transaction committed: write its writes and changelog offset to RocksDB, atomically.

        Returns how many writes went in."""
        writes = self.uncommitted.pop(partition, None) or {}
        offset = self.changelog_offsets.pop(partition, None)
        if not writes and offset is None:
            return 0
        batch = rocksdict.WriteBatch(raw_mode=True)
        for key, value in writes.items():
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        if offset is not None:
            batch.put(self.offset_key, str(offset).encode())
        cast(_Database, self._db_for_partition(partition)).write(batch)
        return len(writes)

    def drop_uncommitted(self, partition: int) -> int:
        """The partition's transaction was aborted or abandoned: forget its writes; returns how many."""
        self.changelog_offsets.pop(partition, None)
        return len(self.uncommitted.pop(partition, {}))

    # recovery

    def apply_changelog_batch(self, batch: Iterable[Any], to_key: Any, to_value: Any) -> None:
        events = list(batch)
        standbys = self.app.assignor.assigned_standbys()
        for event in events:
            if event.message.tp not in standbys:
                self.restored[event.message.partition] += 1
        super().apply_changelog_batch(events, to_key, to_value)

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        await super().on_recovery_completed(active_tps, standby_tps)
        topic = self.table.changelog_topic.get_topic_name()
        mine = sorted(tp.partition for tp in active_tps if tp.topic == topic)
        log.info("table recovered", table=self.table.name, partitions=mine,
                 records_restored=sum(self.restored.values()),
                 restored_per_partition={p: self.restored[p] for p in mine if self.restored[p]})
        self.restored.clear()


STORES.aliases[STORE_SCHEME] = f"{__name__}:TransactionalStore"


def store_url(table_name: str) -> str:
    """The store URL of a table kept in a :class:`TransactionalStore`.

    Named, not ``casehub-rocksdb://``: faust takes an URL without host or path for "no store given".
    """
    return f"{STORE_SCHEME}:{table_name}"


def _store(table: Any) -> TransactionalStore:
    store = table.data
    if not isinstance(store, TransactionalStore):
        raise TypeError(f"table {table.name} is not kept in a TransactionalStore ({store_url(table.name)})")
    return store


class _PartitionView:
    def __init__(self, store: TransactionalStore, partition: int) -> None:
        self.store, self.partition = store, partition

    def keys(self) -> Iterator[bytes]:
        return self.store.partition_keys(self.partition)


def active_databases(table: Any) -> Iterator[PartitionKeys]:
    """The partitions of ``table`` this worker owns (standby replicas left out), each read in key order."""
    store = _store(table)
    return (_PartitionView(store, p) for p in store.active_partitions())


def partition_keys(table: Any, partition: int) -> Iterator[bytes]:
    """The keys of one partition of a table, in key order (empty before it holds any)."""
    return _store(table).partition_keys(partition)


def note_changelog_offset(table: Any, partition: int, offset: int) -> None:
    """A changelog record of the table's ``partition`` was acknowledged at ``offset`` (stored when it commits)."""
    _store(table).note_changelog_offset(partition, offset)


def commit_partition(table: Any, partition: int) -> int:
    """The transaction that wrote ``partition`` committed: its writes go to RocksDB; returns how many."""
    return _store(table).commit_partition(partition)


def drop_uncommitted(table: Any, partition: int) -> int:
    """The transaction that wrote ``partition`` will never commit: its writes are forgotten; returns how many."""
    return _store(table).drop_uncommitted(partition)


def uncommitted(table: Any) -> Mapping[int, MutableMapping[bytes, bytes | None]]:
    """Per partition, the table's writes not committed yet (for diagnostics and tests)."""
    return _store(table).uncommitted


class _RecoveryAsyncio:
    """``asyncio`` as faust's recovery module sees it: its one ``wait_for`` (the changelog reader's idle wait) shorter."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def wait_for(awaitable: Any, timeout: float | None = None) -> Any:
        return await asyncio.wait_for(awaitable, RECOVERY_IDLE_SECONDS if timeout == 5.0 else timeout)


def shorten_recovery_idle_wait() -> None:
    """Let faust's recovery notice after about 2 x RECOVERY_IDLE_SECONDS that a changelog holds nothing more."""
    if isinstance(faust_recovery.asyncio, _RecoveryAsyncio):
        return
    if _FAUST_IDLE_WAIT not in inspect.getsource(faust_recovery):  # in Recovery._slurp_changelogs, a Service task
        raise FaustIncompatible(
            f"faust's changelog recovery no longer waits with `{_FAUST_IDLE_WAIT}`: its shorter wait cannot be set",
            hint="install the faust-streaming version pyproject.toml pins (pip install -e .)",
        )
    faust_recovery.asyncio = _RecoveryAsyncio()  # type: ignore[assignment]
