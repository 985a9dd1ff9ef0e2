"""What the dispatcher writes: the POST body, the hub.audit record of each attempt and the hub.dlq dead letter."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aiokafka import ConsumerRecord

from casehub.connectors.webhooks.attempt import Attempt
from casehub.core import topics
from casehub.schemas.codec import Decoded, encode_structured
from casehub.streams import audit
from casehub.streams.dlq import Origin, dead_letter_headers

Headers = list[tuple[str, bytes]]
STAGE = "webhook"
DLQ_TOPIC = topics.HUB_DLQ
AUDIT_TOPIC = topics.HUB_AUDIT_ENTRIES  # sealed into hub.audit by `casehub audit seal`
AUDIT_HEADERS: Headers = [("content-type", audit.AUDIT_CONTENT_TYPE)]


def body(decoded: Decoded, *, schema_base: str) -> bytes:
    """The projected event as one structured CloudEvent (JSON), keeping extension attributes such as the disclosure.

    Its ``dataschema`` is the JSON Schema of ``data`` under ``schema_base``, the hub's public URL (the outbound
    record's own ``ce_dataschema`` names the Avro schema, which describes Avro data, not this JSON).
    """
    document = json.loads(encode_structured(decoded.event, source=decoded.source, schema_base=schema_base).value)
    extensions = {name: value for name, value in decoded.attributes.items() if name not in document and name != "datacontenttype"}
    data = document.pop("data")
    return json.dumps({**document, **extensions, "data": data}, ensure_ascii=False, separators=(",", ":")).encode()


def safe_url(url: str) -> str:
    """The URL without credentials, query or fragment: what an audit record may show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def decision_of(attempt: Attempt, last: bool) -> str:
    """``webhook_delivered``, ``webhook_retry`` (another attempt follows) or ``webhook_failed`` (dead-lettered)."""
    if attempt.verdict == "delivered":
        return "webhook_delivered"
    return "webhook_failed" if last or attempt.verdict == "permanent" else "webhook_retry"


def attempt_record(decoded: Decoded, *, recipient: str, topic: str, url: str, message_id: str, number: int,
                   max_attempts: int, attempt: Attempt, retry_in: float | None, now: datetime) -> bytes:
    """The hub.audit record of one attempt: the disclosure-log fields of the stream pipeline plus ``webhook``."""
    last = retry_in is None
    decision = decision_of(attempt, last)
    base = audit.audit_record(
        decoded.event,
        recipient=recipient,
        disclosure=decoded.attributes.get("casehubdisclosure", "unknown"),
        source=decoded.source,
        topic=topic,
        decision=decision,
        reason=attempt.error,
        now=now,
    )
    record: dict[str, Any] = json.loads(base)
    record["webhook"] = {
        "attempt": number,
        "max_attempts": max_attempts,
        "status": attempt.status,
        "error": attempt.error,
        "latency_ms": attempt.latency_ms,
        "retry_in_ms": None if retry_in is None else round(retry_in * 1000, 1),
        "retry_after_s": attempt.retry_after,
        "webhook_id": message_id,
        "url": safe_url(url),
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


def origin(record: ConsumerRecord[Any, Any]) -> Origin:
    """Where an outbound record came from, with its key, value and headers as received."""
    return Origin(record.topic, record.partition, record.offset, record.key, record.value,
                  tuple((str(k), bytes(v) if v is not None else b"") for k, v in (record.headers or ())))


def dead_letter(record: ConsumerRecord[Any, Any], *, reason: str, exception: str, attempts: int) -> tuple[bytes | None, bytes | None, Headers]:
    """(key, value, headers) for hub.dlq: the record unchanged plus ``hub.error.*`` with stage ``webhook``."""
    where = origin(record)
    headers = dead_letter_headers(where, stage=STAGE, reason=reason, exception=exception, attempts=attempts)
    return where.key, where.value, headers
