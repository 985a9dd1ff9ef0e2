"""Dedupe state that outlived its use is deleted: seen events after the retention, subject index entries after the window.

Without this the ``seen`` table (one entry per accepted event) and the ``subjects`` index grow for as
long as the hub runs, on disk and in their compacted changelogs. Each entry gets an ``expiry`` table
entry keyed ``<13-digit epoch ms>|<table>|<key>``, so a partition's due entries are the first keys of
its database. A timer asks each partition to sweep (a command record on the intake topic, like the SLA
timer's); the core agent deletes what is due inside that record's transaction, so the deletions reach
the changelogs exactly once. An entry rewritten after its expiry was planned (a very late retry
accepted anew) is kept: the sweep checks the entry itself, not only the plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, MutableMapping
from datetime import datetime, timedelta

from casehub.streams import timers

SEEN, SUBJECTS = "seen", "subjects"
SWEEP_LIMIT = 5000
"""The most entries one sweep command deletes: its transaction stays small; the next command goes on."""

Table = MutableMapping[bytes, bytes]


def expiry_key(at: datetime, table: str, key: bytes) -> bytes:
    """The ``expiry`` table key that plans deleting ``key`` of ``table`` at ``at``."""
    return f"{timers.moment_key(at)}|{table}|".encode() + key


def plan(expiry: Table, table: str, key: bytes, at: datetime) -> None:
    """Plan deleting ``key`` of ``table`` at ``at``."""
    expiry[expiry_key(at, table, key)] = b""


def due_before(keys: Iterable[bytes], until: datetime, limit: int = SWEEP_LIMIT) -> list[bytes]:
    """The expiry keys (in key order) planned before ``until``, at most ``limit``."""
    bound = timers.moment_key(until).encode()
    due: list[bytes] = []
    for key in keys:
        if key >= bound or len(due) >= limit:
            break
        due.append(key)
    return due


def sweep(
    due: Iterable[bytes],
    *,
    until: datetime,
    seen: Table,
    subjects: Table,
    expiry: Table,
    retention: timedelta,
    window: timedelta,
) -> int:
    """Delete the entries planned in ``due`` that really expired by ``until``, and the plans; returns how many went."""
    deleted = 0
    for plan_key in due:
        _, table, key = plan_key.split(b"|", 2)
        if table == SEEN.encode():
            value = seen.get(key)
            if value is not None and float(value) + retention.total_seconds() <= until.timestamp():
                del seen[key]
                deleted += 1
        elif table == SUBJECTS.encode():
            value = subjects.get(key)
            if value is not None and datetime.fromisoformat(json.loads(value)["opened_at"]) + window <= until:
                del subjects[key]
                deleted += 1
        del expiry[plan_key]
    return deleted
