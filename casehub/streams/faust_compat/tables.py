"""faust's RocksDB store: its per-partition databases, read in key order (faust iterates a table key by key)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol, cast

USES: tuple[tuple[str, str], ...] = (
    ("faust.stores.rocksdb:Store", "_dbs"),
    ("faust.stores.rocksdb:Store", "_dbs_for_actives"),
)
"""(where, name) of everything this module touches that faust does not promise to keep."""


class PartitionDatabase(Protocol):
    """One partition's RocksDB database of a table (a raw-mode ``rocksdict.Rdict``)."""

    def keys(self) -> Iterable[bytes]: ...

    def delete(self, key: bytes) -> None: ...


class _RocksStore(Protocol):
    _dbs: Mapping[int, PartitionDatabase]

    def _dbs_for_actives(self) -> Iterator[PartitionDatabase]: ...


def _store(table: Any) -> _RocksStore:
    return cast(_RocksStore, table.data)


def active_databases(table: Any) -> Iterator[PartitionDatabase]:
    """The databases of the partitions of ``table`` this worker owns (standby replicas left out)."""
    return _store(table)._dbs_for_actives()


def partition_keys(table: Any, partition: int) -> Iterator[bytes]:
    """The keys of one partition of a RocksDB-backed table, in key order (empty before it holds any)."""
    db = _store(table)._dbs.get(partition)
    return iter(()) if db is None else iter(db.keys())


def discard_partition(table: Any, partition: int) -> int:
    """Empty one partition's database (its recorded changelog offset too), so its next assignment restores it from
    the changelog from the start; returns how many keys were deleted (0 when the partition is not open here)."""
    db = _store(table)._dbs.get(partition)
    keys = [] if db is None else list(db.keys())
    for key in keys:
        cast(PartitionDatabase, db).delete(key)
    return len(keys)
