"""Dead letters: a record a stage cannot process goes to ``hub.dlq`` unchanged, with ``hub.error.*`` context headers."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HEADER_PREFIX = "hub.error."
MAX_REASON_BYTES = 4000


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record was read from, and what it held: enough to re-drive it byte for byte."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def origin_of(message: object) -> Origin:
    """The :class:`Origin` of a faust ``Message`` (topic, partition, offset, key, value, headers as received)."""
    headers = getattr(message, "headers", None) or ()
    items = headers.items() if isinstance(headers, dict) else headers
    return Origin(
        topic=message.topic,  # type: ignore[attr-defined]
        partition=message.partition,  # type: ignore[attr-defined]
        offset=message.offset,  # type: ignore[attr-defined]
        key=message.key,  # type: ignore[attr-defined]
        value=message.value,  # type: ignore[attr-defined]
        headers=tuple((str(k), bytes(v) if v is not None else b"") for k, v in items),
    )


HUB_NAMESPACE = "hub."
REDRIVE_SIGNATURE = "hub.redrive.signature"
REDRIVE_SIGNED = (f"{HEADER_PREFIX}attempts", "hub.redrive.id", "hub.redrive.dlq")
"""What an operator's re-drive writes onto a record it sends back to a partner's inbound topic, signed."""


def redrive_key(secret: bytes) -> bytes:
    """The key of re-drive signatures, derived from the hub's secret (never the secret itself)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"casehub re-drive headers v1").derive(secret)


def _redrive_mac(key: bytes, headers: Sequence[tuple[str, bytes]], value: bytes | None) -> hmac.HMAC:
    mac = hmac.HMAC(key, hashes.SHA256())
    found = dict(headers)
    for name in REDRIVE_SIGNED:
        mac.update(name.encode() + b"=" + found.get(name, b"") + b"\n")
    mac.update(hashlib.sha256(value or b"").digest())
    return mac


def sign_redrive(key: bytes, headers: Sequence[tuple[str, bytes]], value: bytes | None) -> tuple[str, bytes]:
    """The signature header that lets intake keep a re-drive's attempt count and provenance."""
    return REDRIVE_SIGNATURE, _redrive_mac(key, headers, value).finalize().hex().encode()


def _signed_by_hub(key: bytes | None, headers: Sequence[tuple[str, bytes]], value: bytes | None) -> bool:
    signature = next((v for k, v in headers if k == REDRIVE_SIGNATURE), None)
    if key is None or signature is None:
        return False
    try:
        _redrive_mac(key, headers, value).verify(bytes.fromhex(signature.decode("ascii")))
    except (InvalidSignature, ValueError, UnicodeDecodeError):
        return False
    return True


def without_hub_headers(origin: Origin, redrive: bytes | None = None) -> tuple[Origin, int]:
    """The record with every ``hub.*`` header a partner wrote removed, and how many there were.

    Only the hub writes that namespace (provenance, commands, errors); a partner's copy is never read. The one
    exception is an operator's re-drive, whose headers carry an HMAC under ``redrive`` (see ``redrive_key``).
    """
    signed = _signed_by_hub(redrive, origin.headers, origin.value)
    kept = tuple((k, v) for k, v in origin.headers
                 if not k.lower().startswith(HUB_NAMESPACE) or (signed and k in (*REDRIVE_SIGNED, REDRIVE_SIGNATURE)))
    removed = len(origin.headers) - len(kept)
    if not removed:
        return origin, 0
    return Origin(origin.topic, origin.partition, origin.offset, origin.key, origin.value, kept), removed


def error_headers(origin: Origin, *, stage: str, reason: str, exception: str, attempts: int = 1) -> list[tuple[str, bytes]]:
    """The ``hub.error.*`` headers that say why and where a record failed."""
    return [
        (f"{HEADER_PREFIX}stage", stage.encode()),
        (f"{HEADER_PREFIX}reason", reason.encode()[:MAX_REASON_BYTES]),
        (f"{HEADER_PREFIX}exception", exception.encode()),
        (f"{HEADER_PREFIX}topic", origin.topic.encode()),
        (f"{HEADER_PREFIX}partition", str(origin.partition).encode()),
        (f"{HEADER_PREFIX}offset", str(origin.offset).encode()),
        (f"{HEADER_PREFIX}attempts", str(attempts).encode()),
    ]


def previous_attempts(headers: Sequence[tuple[str, bytes]]) -> int:
    """How often the record failed before: the ``hub.error.attempts`` an operator's re-drive left on it, else 0."""
    raw = next((v for k, v in headers if k == f"{HEADER_PREFIX}attempts"), None)
    try:
        return int(raw) if raw else 0
    except ValueError:
        return 0


def dead_letter_headers(origin: Origin, **error: object) -> list[tuple[str, bytes]]:
    """The record's own headers, untouched, followed by the ``hub.error.*`` context headers.

    A re-driven record that fails again comes back with its attempt count raised.
    """
    kept = [(k, v) for k, v in origin.headers if not k.startswith(HEADER_PREFIX)]
    error.setdefault("attempts", previous_attempts(origin.headers) + 1)
    return kept + error_headers(origin, **error)  # type: ignore[arg-type]


def read_error(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    """The ``hub.error.*`` headers of a dead letter as ``{stage: ..., reason: ...}`` (for operators and tests)."""
    return {k[len(HEADER_PREFIX) :]: v.decode() for k, v in headers if k.startswith(HEADER_PREFIX)}
