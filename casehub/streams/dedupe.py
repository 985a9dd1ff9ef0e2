"""Dedupe stage: exact duplicates by (source, event id) and near-duplicate reports joined to the subject's open case.

The state lives in faust tables (RocksDB on disk, changelogged to Kafka); the rules here take any
``MutableMapping[bytes, bytes]`` so they are tested without a broker.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import MutableMapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from casehub.schemas.models import CaseEvent, CaseLinked
from casehub.streams.keys import (
    new_case_id,
    other_id_token,
    shard_of_case,
    shard_of_text,
    shard_of_token,
    subject_token,
)
from casehub.streams.state import CaseState

Table = MutableMapping[bytes, bytes]
HUB_SOURCE = "/hub"


def seen_key(source: str, event_id: str) -> bytes:
    """The exact-dedupe key: CloudEvents say (source, id) identifies an event."""
    return f"{source}\x1f{event_id}".encode()


def is_retry(seen: Table, source: str, event_id: str, *, now: datetime, retention: timedelta) -> bool:
    """Whether ``(source, id)`` was accepted within ``retention``; if not, remember it now.

    An entry older than the retention no longer counts, so a very late retry opens a new event.
    """
    key = seen_key(source, event_id)
    first_seen = seen.get(key)
    if first_seen is not None and now.timestamp() - float(first_seen) <= retention.total_seconds():
        return True
    seen[key] = f"{now.timestamp():.3f}".encode()
    return False


def event_digest(source: str, event_id: str) -> str:
    """How a case remembers one of its events for exact dedupe: a short digest of ``(source, id)``."""
    return hashlib.sha256(seen_key(source, event_id)).hexdigest()[:16]


def seen_in_case(case: CaseState, source: str, event_id: str, *, now: datetime, retention: timedelta) -> bool:
    """Whether the follow-up ``(source, id)`` was accepted for ``case`` within ``retention``.

    Follow-ups are remembered in their case's state (:func:`remembered`), which every accepted follow-up rewrites
    anyway, so exact dedupe of a follow-up costs no record of its own; reports, whose case is not known before
    dedupe, keep their entry in the ``seen`` table (:func:`is_retry`).
    """
    digest = event_digest(source, event_id)
    horizon = now.timestamp() - retention.total_seconds()
    return any(seen == digest and at >= horizon for seen, at in case.recent_events)


def remembered(case: CaseState, source: str, event_id: str, *, now: datetime, retention: timedelta) -> CaseState:
    """``case`` remembering the follow-up ``(source, id)`` from ``now``, and forgetting what is past ``retention``."""
    horizon = now.timestamp() - retention.total_seconds()
    kept = tuple(entry for entry in case.recent_events if entry[1] >= horizon)
    return replace(case, recent_events=(*kept, (event_digest(source, event_id), round(now.timestamp(), 3))))


def subject_key(token: str, issue_category: str) -> bytes:
    """The near-duplicate key: the same person (keyed token) in the same issue category."""
    return f"{token}\x1f{issue_category}".encode()


def shard_for(event: CaseEvent, pseudonym_key: bytes) -> str:
    """The shard an inbound event belongs to: its case's, else its subject's, else its own id's."""
    if event.case_id:
        shard = shard_of_case(event.case_id)
        if shard:
            return shard
    token = token_of(event, pseudonym_key)
    return shard_of_token(token) if token else shard_of_text(event.id)


def token_of(event: CaseEvent, pseudonym_key: bytes) -> str | None:
    """The subject token of a report: keyed HMAC of the citizen id (or other id), None when there is neither."""
    subject = getattr(event, "subject", None)
    if subject is None:
        return None
    if subject.citizen_id:
        return subject_token(pseudonym_key, subject.citizen_id)
    if subject.other_id:
        return other_id_token(pseudonym_key, subject.other_id)
    return None


@dataclass(frozen=True, slots=True)
class OpenCase:
    """Where a report belongs: an open case of the same subject and category, or a new case id."""

    case_id: str
    is_new: bool


def place_report(
    event: CaseEvent,
    *,
    token: str | None,
    index: Table,
    cases: Table,
    now: datetime,
    window: timedelta,
) -> OpenCase:
    """The case a ``case.reported`` joins: the subject's open case reported within ``window``, else a new one.

    The index entry of a new case is written here; the caller stores the case state.
    """
    shard = shard_of_token(token) if token else shard_of_text(event.id)
    if token:
        key = subject_key(token, event.issue_category)
        entry = index.get(key)
        if entry is not None:
            found = json.loads(entry)
            state_raw = cases.get(found["case_id"].encode())
            opened = datetime.fromisoformat(found["opened_at"])
            if state_raw is not None and CaseState.from_bytes(state_raw).is_open and now - opened <= window:
                return OpenCase(found["case_id"], is_new=False)
        case_id = new_case_id(shard, now)
        index[key] = json.dumps({"case_id": case_id, "opened_at": now.isoformat()}).encode()
        return OpenCase(case_id, is_new=True)
    return OpenCase(new_case_id(shard, now), is_new=True)


def linked_event(report: CaseEvent, *, case_id: str, source: str, window_hours: int, now: datetime) -> CaseLinked:
    """The hub's ``case.linked``: report ``report`` from ``source`` joined open case ``case_id``."""
    basis = "citizen_id" if getattr(getattr(report, "subject", None), "citizen_id", None) else "subject_token"
    return CaseLinked.model_validate(
        {
            "id": f"link-{hashlib.sha256(seen_key(source, report.id)).hexdigest()[:24]}",
            "occurred_at": now,
            "case_id": case_id,
            "subject_token": report.subject_token,
            "issue_category": report.issue_category,
            "target_group": report.target_group,
            "location": report.location,
            "risk_level": report.risk_level,
            "lawful_basis": report.lawful_basis.model_copy(update={"sensitive_basis": None}),
            "sensitivity": [],
            "enrichment": report.enrichment,
            "linked_event_id": report.id,
            "linked_source": source,
            "match_basis": basis,
            "window_hours": window_hours,
        }
    )
