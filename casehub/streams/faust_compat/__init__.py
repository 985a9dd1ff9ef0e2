"""Where casehub reaches into faust's (and aiokafka's) private parts: one package, checked at start-up.

faust-streaming 0.15 lacks hooks casehub needs (transactions per source partition, seeks under the commit gate,
highwaters under read_committed, per-partition RocksDB access, a transaction stuck on a deleted topic). The rest
of casehub calls the typed functions of ``consumer``, ``producer`` and ``tables`` only. Every private name they
use is listed in their ``USES``, gathered in ``REQUIRED``; :func:`self_check` fails fast, naming what is missing,
when another faust or aiokafka is installed, instead of an AttributeError in the middle of a rebalance.
pyproject.toml pins faust to the minor version this was written for.
"""

from __future__ import annotations

import inspect
from typing import Any

from casehub.streams.exceptions import FaustIncompatible
from casehub.streams.faust_compat import consumer, fetch_sessions, producer, tables
from casehub.streams.faust_compat.consumer import OffsetsConsumer, ReadCommittedConsumerThread, install

__all__ = [
    "REQUIRED", "TESTED_VERSION", "OffsetsConsumer", "ReadCommittedConsumerThread", "consumer", "install",
    "missing_names", "producer", "self_check", "tables",
]

TESTED_VERSION = "0.15"
# (where, what): an attribute of a class, or a name its source assigns (instance attributes made in __init__)
REQUIRED: tuple[tuple[str, str], ...] = (*consumer.USES, *fetch_sessions.USES, *producer.USES, *tables.USES)


def _resolve(where: str) -> Any:
    module_name, _, name = where.partition(":")
    module = __import__(module_name, fromlist=[name])
    return getattr(module, name)


def _assigned_in_source(owner: Any, name: str) -> bool:
    try:
        source = inspect.getsource(owner)
    except (OSError, TypeError):
        return False
    return f"self.{name} =" in source or f"self.{name}:" in source or f"    {name}:" in source


def missing_names() -> list[str]:
    """Every required private name the installed faust (or aiokafka) lacks."""
    missing = []
    for where, name in REQUIRED:
        try:
            owner = _resolve(where)
        except (ImportError, AttributeError):
            missing.append(where)
            continue
        if not hasattr(owner, name) and not _assigned_in_source(owner, name):
            missing.append(f"{where}.{name}")
    return missing


def self_check() -> None:
    """Fail fast, saying what is missing, if the installed faust is not the one casehub was written against."""
    import aiokafka
    import faust

    missing = missing_names()
    if missing:
        raise FaustIncompatible(
            f"faust-streaming {faust.__version__} (aiokafka {aiokafka.__version__}) lacks what casehub relies on: "
            f"{', '.join(missing)}",
            hint=f"install the faust-streaming {TESTED_VERSION}.x and the aiokafka that pyproject.toml pins "
            "(pip install -e .)",
        )
