"""An intake record's provenance: the ``hub.origin.*`` headers that let the core hop dead-letter the inbound record
unchanged (topic, partition, offset, key), and reading them back."""

from __future__ import annotations

from typing import Any

from casehub.streams.dlq import Origin
from casehub.streams.exceptions import StageRejected

ORIGIN_PREFIX = "hub.origin."
FORWARDED_HEADER = f"{ORIGIN_PREFIX}forwarded"
"""On an intake record the core hop sent on to its event's shard (intake's shard was not the event's)."""


def header(headers: list[tuple[str, bytes]], name: str) -> bytes | None:
    return next((v for k, v in headers if k == name), None)


def origin_headers(origin: Origin) -> list[tuple[str, bytes]]:
    """The record's own headers plus where it came from, so the next hop can dead-letter it unchanged."""
    return [
        *origin.headers,
        (f"{ORIGIN_PREFIX}topic", origin.topic.encode()),
        (f"{ORIGIN_PREFIX}partition", str(origin.partition).encode()),
        (f"{ORIGIN_PREFIX}offset", str(origin.offset).encode()),
        (f"{ORIGIN_PREFIX}key", origin.key or b""),
        (f"{ORIGIN_PREFIX}has-key", b"1" if origin.key is not None else b"0"),
    ]


def message_headers(message: Any) -> list[tuple[str, bytes]]:
    return [(str(k), bytes(v or b"")) for k, v in (message.headers or [])]


def original(message: Any, headers: list[tuple[str, bytes]]) -> Origin:
    """The inbound record an intake record carries (key, value and headers as the partner sent them).

    Raises StageRejected when the hub's own provenance headers are missing or unreadable (the intake record is
    then dead-lettered as it is). ``headers``: the message's, already read by the caller.
    """
    own = [(k, v) for k, v in headers if not k.startswith(ORIGIN_PREFIX)]
    try:
        topic = (header(headers, f"{ORIGIN_PREFIX}topic") or b"").decode("ascii")
        partition = int(header(headers, f"{ORIGIN_PREFIX}partition") or b"")
        offset = int(header(headers, f"{ORIGIN_PREFIX}offset") or b"")
    except (UnicodeDecodeError, ValueError):
        raise StageRejected("an intake record's hub.origin.* headers are missing or not readable", stage="core",
                            exception="ProvenanceError") from None
    return Origin(
        topic=topic, partition=partition, offset=offset,
        key=header(headers, f"{ORIGIN_PREFIX}key") if header(headers, f"{ORIGIN_PREFIX}has-key") == b"1" else None,
        value=message.value,
        headers=tuple(own),
    )
