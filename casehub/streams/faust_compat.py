"""Where casehub reaches into faust's private parts: one module, checked against the installed faust at start-up.

faust-streaming 0.15 lacks hooks casehub needs (transactions per source partition, seeks under the commit gate,
highwaters under read_committed, per-partition RocksDB access). Every private name casehub uses is listed in
``REQUIRED``; :func:`self_check` fails fast, naming what is missing, when another faust is installed, instead of an
AttributeError in the middle of a rebalance. pyproject.toml pins faust to the minor version this was written for.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from faust.transport.drivers import aiokafka as faust_aiokafka

from casehub.streams.exceptions import FaustIncompatible

TESTED_VERSION = "0.15"
# (where, what): an attribute of a class, or a name its source assigns (instance attributes made in __init__)
REQUIRED: tuple[tuple[str, str], ...] = (
    ("faust.transport.drivers.aiokafka:AIOKafkaConsumerThread", "_highwaters"),
    ("faust.transport.drivers.aiokafka:AIOKafkaConsumerThread", "_ensure_consumer"),
    ("faust.transport.drivers.aiokafka:Consumer", "_new_consumer_thread"),
    ("faust.transport.drivers.aiokafka:Producer", "_settings_extra"),
    ("faust.transport.drivers.aiokafka:Producer", "_new_producer"),
    ("faust.transport.drivers.aiokafka:Producer", "_trn_locks"),
    ("faust.transport.drivers.aiokafka:Producer", "_transaction_producers"),
    ("faust.transport.consumer:Consumer", "_committed_offset"),
    ("faust.transport.consumer:Consumer", "_acked"),
    ("faust.transport.consumer:Consumer", "_acked_index"),
    ("faust.transport.consumer:Consumer", "_gap"),
    ("faust.transport.consumer:Consumer", "_new_offset"),
    ("faust.transport.consumer:Consumer", "perform_seek"),
    ("faust.transport.consumer:Consumer", "force_commit"),
    ("faust.transport.consumer:TransactionManager", "commit"),
    ("faust.stores.rocksdb:Store", "_dbs"),
    ("faust.stores.rocksdb:Store", "_dbs_for_actives"),
    ("faust.tables.recovery:Recovery", "_build_highwaters"),
)


class OffsetsConsumer(Protocol):
    """The aiokafka consumer faust's thread wraps: what the read_committed highwaters need of it."""

    async def end_offsets(self, partitions: Iterable[Any]) -> Mapping[Any, int]: ...


def _resolve(where: str) -> Any:
    module_name, _, name = where.partition(":")
    module = __import__(module_name, fromlist=[name])
    return getattr(module, name)


def missing_names() -> list[str]:
    """Every required private name the installed faust lacks."""
    missing = []
    for where, name in REQUIRED:
        try:
            owner = _resolve(where)
        except (ImportError, AttributeError):
            missing.append(where)
            continue
        if hasattr(owner, name):
            continue
        try:
            source = inspect.getsource(owner)
        except (OSError, TypeError):
            source = ""
        if f"self.{name} =" not in source and f"self.{name}:" not in source and f"{name}:" not in source:
            missing.append(f"{where}.{name}")
    return missing


def self_check() -> None:
    """Fail fast, saying what is missing, if the installed faust is not the one casehub was written against."""
    import faust

    missing = missing_names()
    if missing:
        raise FaustIncompatible(
            f"faust-streaming {faust.__version__} lacks what casehub relies on: {', '.join(missing)}",
            hint=f"install the faust-streaming {TESTED_VERSION}.x that pyproject.toml pins (pip install -e .)",
        )


class ReadCommittedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):  # type: ignore[misc]
    """faust's consumer thread, with highwaters that are never None under exactly_once.

    Under exactly_once faust reads a highwater as the consumer's ``last_stable_offset``, which is None until the
    partition's first fetch; table recovery turns that into -1 and raises ConsistencyError on almost every
    rebalance (faust-streaming/faust#158). ListOffsets under read_committed answers the same last stable offset
    at any time.
    """

    async def _highwaters(self, partitions: list[Any]) -> Mapping[Any, int]:
        consumer: OffsetsConsumer = self._ensure_consumer()
        found: Mapping[Any, int] = await consumer.end_offsets(partitions)
        return found


def install(app: Any) -> None:
    """Make ``app``'s consumers use :class:`ReadCommittedConsumerThread` (before the consumer is created)."""
    base = app.transport.Consumer

    def _new_consumer_thread(self: Any) -> ReadCommittedConsumerThread:
        return ReadCommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)

    app.transport.Consumer = type("ReadCommittedConsumer", (base,), {"_new_consumer_thread": _new_consumer_thread})
