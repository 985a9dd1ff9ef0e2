"""Dedupe state that outlived its use is deleted: seen events after the retention, subject index entries after the window.

Without this the ``seen`` table (one entry per accepted report) and the ``subjects`` index grow for as
long as the hub runs, on disk and in their compacted changelogs. Each report gets one ``expiry`` table
entry keyed ``<13-digit epoch ms>|report|<seen key>`` (its subject index key as the value), due when the
first of its two entries expires; the sweep deletes what expired and plans the rest again on its own, keyed
``<ms>|seen|<key>`` or ``<ms>|subjects|<key>``. A partition's due entries are the first keys of its database.
(Follow-ups are remembered in their case's state, which needs no plan: see ``dedupe.seen_in_case``.) A timer asks each partition to sweep (a command record on the intake topic, like the SLA
timer's); the core agent deletes what is due inside that record's transaction, so the deletions reach
the changelogs exactly once. An entry rewritten after its expiry was planned (a very late retry
accepted anew) is kept: the sweep checks the entry itself, not only the plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, MutableMapping
from datetime import UTC, datetime, timedelta

from casehub.streams import timers

SEEN, SUBJECTS, REPORT = "seen", "subjects", "report"
SWEEP_LIMIT = 5000
"""The most entries one sweep command deletes: its transaction stays small; the next command goes on."""

Table = MutableMapping[bytes, bytes]


def expiry_key(at: datetime, table: str, key: bytes) -> bytes:
    """The ``expiry`` table key that plans deleting ``key`` of ``table`` at ``at``."""
    return f"{timers.moment_key(at)}|{table}|".encode() + key


def plan(expiry: Table, table: str, key: bytes, at: datetime) -> None:
    """Plan deleting ``key`` of ``table`` at ``at``."""
    expiry[expiry_key(at, table, key)] = b""


def plan_report(expiry: Table, seen_key: bytes, subject_key: bytes | None, *, now: datetime, retention: timedelta,
                window: timedelta) -> None:
    """One plan for what a report leaves: its ``seen`` entry and (for a new case) its subject index entry."""
    at = now + (min(retention, window) if subject_key else retention)
    expiry[expiry_key(at, REPORT, seen_key)] = subject_key or b""


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
        if table == REPORT.encode():
            subject_key = expiry.get(plan_key) or b""
            deleted += _expire_seen(key, seen, expiry, until, retention)
            deleted += _expire_subject(subject_key, subjects, expiry, until, window) if subject_key else 0
        elif table == SEEN.encode():
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


def _expire_seen(key: bytes, seen: Table, expiry: Table, until: datetime, retention: timedelta) -> int:
    """Delete the ``seen`` entry of a report plan if it expired, else plan it again at its own expiry."""
    value = seen.get(key)
    if value is None:
        return 0
    expires = float(value) + retention.total_seconds()
    if expires <= until.timestamp():
        del seen[key]
        return 1
    plan(expiry, SEEN, key, datetime.fromtimestamp(expires, UTC))
    return 0


def _expire_subject(key: bytes, subjects: Table, expiry: Table, until: datetime, window: timedelta) -> int:
    """Delete the subject index entry of a report plan if the window passed, else plan it again for then."""
    value = subjects.get(key)
    if value is None:
        return 0
    expires = datetime.fromisoformat(json.loads(value)["opened_at"]) + window
    if expires <= until:
        del subjects[key]
        return 1
    plan(expiry, SUBJECTS, key, expires)
    return 0
