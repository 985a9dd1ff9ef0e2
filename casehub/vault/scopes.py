"""Scopes a data key belongs to: a subject (by the hub's keyed pseudonym, never a raw id), a case, or one record."""

from __future__ import annotations

import hashlib

SUBJECT = "subject-"
CASE = "case-"
RECORD = "record-"


def subject_scope(token: str) -> str:
    """The scope of a person: their subject token (a keyed HMAC of their id)."""
    return f"{SUBJECT}{token}"


def case_scope(case_id: str) -> str:
    """The scope of a case's events whose subject is not known where they are encrypted."""
    return f"{CASE}{case_id}"


def record_scope(text: str) -> str:
    """The scope of one record that names neither a subject nor a case (an unreadable dead letter)."""
    return f"{RECORD}{hashlib.sha256(text.encode()).hexdigest()[:32]}"
