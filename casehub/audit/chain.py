"""Seal one audit record into its partition's chain (previous digest, sequence, Ed25519 signature) and check one.

A sealed record keeps its key and JSON value as they were; four headers carry the chain:
``hub.audit.seq`` (its place in the partition's chain, from 0), ``hub.audit.prev`` (hex SHA-256 digest of the
record before it), ``hub.audit.key`` (id of the signing key) and ``hub.audit.sig`` (Ed25519 over this record's
digest). The digest covers the partition, the sequence, the previous digest, the key, the value and every other
header in order, so editing any of them, or removing or inserting a record, breaks the chain at that record.
The topic name is left out so that an exported copy of a partition verifies like the original.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SEQ_HEADER = "hub.audit.seq"
PREV_HEADER = "hub.audit.prev"
KEY_HEADER = "hub.audit.key"
SIGNATURE_HEADER = "hub.audit.sig"
CHAIN_HEADERS = frozenset({SEQ_HEADER, PREV_HEADER, KEY_HEADER, SIGNATURE_HEADER})
GENESIS = bytes(32)
_DOMAIN = b"casehub-audit-chain-v1"

Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True)
class ChainHead:
    """Where a partition's chain ends: the next record gets ``seq`` and names ``digest`` as its previous."""

    partition: int
    seq: int = 0
    digest: bytes = GENESIS


@dataclass(frozen=True)
class SealedLink:
    """What the chain headers of one record say about it."""

    seq: int
    prev: bytes
    key_id: str
    signature: bytes


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def record_digest(partition: int, seq: int, prev: bytes, key: bytes | None, value: bytes | None,
                  headers: Iterable[tuple[str, bytes]]) -> bytes:
    """SHA-256 over the record's place in the chain and its content (chain headers excluded)."""
    parts = [_DOMAIN, str(partition).encode(), str(seq).encode(), prev,
             b"\x00" if key is None else b"\x01" + key, b"\x00" if value is None else b"\x01" + value]
    for name, header_value in headers:
        if name in CHAIN_HEADERS:
            continue
        parts.append(name.encode())
        parts.append(header_value or b"")
    return hashlib.sha256(b"".join(_field(part) for part in parts)).digest()


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short, stable name of a verify key: the first 16 hex digits of SHA-256 over its raw bytes."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def seal(head: ChainHead, signer: Ed25519PrivateKey, key: bytes | None, value: bytes | None,
         headers: Headers) -> tuple[list[tuple[str, bytes]], ChainHead]:
    """The record's headers with its chain headers added, and the chain's new head."""
    plain = [(name, data) for name, data in headers if name not in CHAIN_HEADERS]
    digest = record_digest(head.partition, head.seq, head.digest, key, value, plain)
    sealed = plain + [
        (SEQ_HEADER, str(head.seq).encode()),
        (PREV_HEADER, head.digest.hex().encode()),
        (KEY_HEADER, key_id(signer.public_key()).encode()),
        (SIGNATURE_HEADER, signer.sign(digest).hex().encode()),
    ]
    return sealed, ChainHead(head.partition, head.seq + 1, digest)


def read_link(headers: Headers) -> SealedLink | None:
    """The chain headers of a record, or None when it carries none (never sealed) or they are malformed."""
    found = {name: data for name, data in headers if name in CHAIN_HEADERS}
    if set(found) != CHAIN_HEADERS:
        return None
    try:
        return SealedLink(int(found[SEQ_HEADER]), bytes.fromhex(found[PREV_HEADER].decode()),
                          found[KEY_HEADER].decode(), bytes.fromhex(found[SIGNATURE_HEADER].decode()))
    except (ValueError, UnicodeDecodeError):
        return None


def signature_valid(public_key: Ed25519PublicKey, signature: bytes, digest: bytes) -> bool:
    try:
        public_key.verify(signature, digest)
    except InvalidSignature:
        return False
    return True
