"""Record size limits the hub enforces itself, so an oversize record is refused with a reason instead of crashing a producer.

Kafka brokers take messages of up to ``message.max.bytes`` (1,048,588 by default) per topic. A partner's record
larger than ``MAX_RECORD_BYTES`` is refused by the gateway (422) and dead-lettered by intake; an output that would
exceed ``MAX_OUTPUT_BYTES`` dead-letters its inbound record. ``hub.dlq`` accepts up to ``DLQ_MAX_MESSAGE_BYTES``
(its topic config) so that any record a partner topic took still fits there with its ``hub.error.*`` headers,
and the worker's producer may send requests of up to ``PRODUCER_MAX_REQUEST_BYTES``.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_RECORD_BYTES = 1_000_000
MAX_OUTPUT_BYTES = 1_000_000
DLQ_MAX_MESSAGE_BYTES = 2 * 1024 * 1024
PRODUCER_MAX_REQUEST_BYTES = 4 * 1024 * 1024


def record_bytes(key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes]] = ()) -> int:
    """The size Kafka counts for a record, near enough: key, value and every header's name and value."""
    return len(key or b"") + len(value or b"") + sum(len(name.encode()) + len(data or b"") for name, data in headers)
