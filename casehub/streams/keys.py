"""Keys the hub derives: keyed-HMAC subject tokens, shards that co-locate a subject's events, and case ids."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

# Crockford base32: no I, L, O, U, so a case id read aloud over the phone is unambiguous
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CASE_ID = re.compile(r"^CASE-(?P<day>\d{8})-(?P<shard>[0-9A-F]{2})(?P<random>[0-9A-HJKMNP-TV-Z]{8})$")
SHARDS = 256


def subject_token(key: bytes, citizen_id: str) -> str:
    """The pseudonym of a person: HMAC-SHA256 under the hub's key, so it cannot be reversed by enumerating ids."""
    normalised = re.sub(r"\D", "", citizen_id)
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()[:32]


def other_id_token(key: bytes, other_id: str) -> str:
    """The pseudonym of a person known by another document (passport, pink card): the id keeps its letters and its
    type, so ``MM1234567``, ``TH1234567`` and ``1234567`` stay three people, and no other id meets a citizen id.

    Only case, spaces and separators are formatting (``mm 123-4567`` is ``MM1234567``).
    """
    normalised = "other_id:" + re.sub(r"[\s\-./]", "", other_id).upper()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()[:32]


def shard_of_token(token: str) -> str:
    """The shard of a subject token: two hex digits."""
    return token[:2].upper()


def shard_of_text(text: str) -> str:
    """A shard for events without a subject (anonymous reports): spread by their own id."""
    return hashlib.sha256(text.encode()).hexdigest()[:2].upper()


def shard_of_case(case_id: str) -> str | None:
    """The shard a hub case id carries, or None when ``case_id`` is not one the hub issued."""
    match = CASE_ID.match(case_id)
    return match.group("shard") if match else None


def partition_key(shard: str) -> bytes:
    """The Kafka key that sends every record of one shard to the same partition of the intake topic."""
    return f"shard-{shard}".encode()


def new_case_id(shard: str, now: datetime) -> str:
    """A fresh case id ``CASE-<yyyymmdd>-<shard><8 random>``; the shard keeps the case beside its subject."""
    bits = int.from_bytes(secrets.token_bytes(5))  # 40 random bits = 8 Crockford digits
    random = "".join(_CROCKFORD[(bits >> shift) & 31] for shift in range(35, -1, -5))
    return f"CASE-{now:%Y%m%d}-{shard}{random}"
