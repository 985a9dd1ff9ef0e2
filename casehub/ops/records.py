"""How operator tools read a Kafka record: headers, the CloudEvent or JSON inside, and a one-line summary."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from casehub.core import geography
from casehub.schemas.codec import decode
from casehub.schemas.exceptions import DecodeError
from casehub.schemas.models import CaseEvent
from casehub.vault.exceptions import Tampered
from casehub.vault.keystore import DataKeyStore
from casehub.vault.reading import open_event, open_record

Headers = list[tuple[str, bytes]]


def header(headers: Any, name: str) -> bytes | None:
    """The value of header ``name`` (exact), or None."""
    return next((v for k, v in (headers or ()) if k == name), None)


def header_text(headers: Any, name: str) -> str | None:
    value = header(headers, name)
    return value.decode(errors="replace") if value is not None else None


def text_or_base64(raw: bytes | None) -> str | None:
    """UTF-8 text when it is, else ``base64:<...>`` (header values and keys are bytes)."""
    if raw is None:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(raw).decode()


def headers_dict(headers: Any) -> dict[str, str | None]:
    return {k: text_or_base64(v) for k, v in (headers or ())}


def when(timestamp_ms: int | None) -> str | None:
    if timestamp_ms is None or timestamp_ms < 0:
        return None
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def place_th(tambon_code: str | None) -> str | None:
    """``ต.บ้านใต้ อ.เกาะพะงัน จ.สุราษฎร์ธานี (840502)`` for a DOPA tambon code."""
    place = geography.tambon(tambon_code) if tambon_code else None
    return place.label_th() if place else tambon_code


@dataclass
class View:
    """A record as an operator sees it: coordinates, key, headers and what the value holds."""

    topic: str
    partition: int
    offset: int
    timestamp: str | None
    key: str | None
    headers: dict[str, str | None]
    event: CaseEvent | None = None
    source: str | None = None
    document: Any = None  # JSON values (audit, state, aggregates)
    decode_error: str | None = None
    raw_value: bytes | None = field(default=None, repr=False)
    erased: list[str] = field(default_factory=list)
    """Fields (or ``value``) whose subject was erased: the tools show ``[erased]`` for them."""

    @property
    def event_type(self) -> str | None:
        if self.event is not None:
            return self.event.type
        if isinstance(self.document, dict):
            return self.document.get("event_type") or self.document.get("last_event_type")
        return self.headers.get("ce_type")

    @property
    def case_id(self) -> str | None:
        if self.event is not None:
            return self.event.case_id
        if isinstance(self.document, dict) and self.document.get("case_id"):
            return str(self.document["case_id"])
        return self.headers.get("ce_subject")

    @property
    def tambon_code(self) -> str | None:
        if self.event is not None:
            return self.event.location.tambon_code
        if isinstance(self.document, dict):
            return self.document.get("tambon_code")
        return None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "topic": self.topic, "partition": self.partition, "offset": self.offset, "timestamp": self.timestamp,
            "key": self.key, "headers": self.headers,
        }
        if self.erased:
            out["erased"] = self.erased
        if self.event is not None:
            out["source"] = self.source
            out["event"] = self.event.to_json()
            out["place_th"] = place_th(self.tambon_code)
        elif self.document is not None:
            out["document"] = self.document
        else:
            out["decode_error"] = self.decode_error
            out["value_base64"] = base64.b64encode(self.raw_value or b"").decode()
        return out

    def summary(self) -> str:
        """One line: where, when, what, which case, where in Thailand."""
        where = f"{self.partition}:{self.offset}"
        parts = [where, self.timestamp or "-"]
        if self.event is not None:
            event = self.event
            parts += [event.type, event.case_id or "(no case id)", event.issue_category, f"risk={event.risk_level or '-'}"]
            parts.append(place_th(event.location.tambon_code) or "-")
            if self.source:
                parts.append(f"from {self.source}")
            if self.headers.get("ce_casehubdisclosure"):
                parts.append(f"[{self.headers['ce_casehubdisclosure']}]")
            if self.erased:
                parts.append(f"[erased: {', '.join(self.erased)}]")
        elif isinstance(self.document, dict):
            doc = self.document
            keys = ("decision", "action", "event_type", "last_event_type", "case_id", "recipient", "sender", "rule",
                    "disclosure", "status")
            parts += [f"{k}={doc[k]}" for k in keys if doc.get(k) is not None]
            if doc.get("tambon_code"):
                parts.append(place_th(doc["tambon_code"]) or "")
        else:
            parts.append(f"undecodable ({self.decode_error})")
        return "  ".join(str(p) for p in parts)


def view(record: Any, store: DataKeyStore | None = None) -> View:
    """Decode a kafka-python ConsumerRecord: a CloudEvent (binary or structured), else JSON, else raw bytes.

    With ``store`` (the hub's data keys), a sealed value (a dead letter) and sealed fields (``cases.events``) are
    opened; what belonged to an erased subject is shown as ``[erased]``."""
    opened = open_record(record.value, list(record.headers or []), store)
    headers = opened.headers
    result = View(
        topic=record.topic, partition=record.partition, offset=record.offset, timestamp=when(record.timestamp),
        key=text_or_base64(record.key), headers=headers_dict(headers), raw_value=opened.value,
    )
    if opened.sealed and opened.value is None and record.value is not None:
        result.decode_error = opened.problem
        result.erased = ["value"] if opened.erased else []
        return result
    value = opened.value or b""
    is_cloudevent = header(headers, "ce_type") is not None or header(headers, "content-type") in (
        b"application/cloudevents+json", b"application/cloudevents+json; charset=utf-8")
    if is_cloudevent or (value.startswith(b"{") and b'"specversion"' in value[:2000]):
        try:
            decoded = decode(value, headers)
            shown = open_event(decoded.event, store)
            result.event, result.source, result.erased = shown.event, decoded.source, shown.erased
            return result
        except (DecodeError, Tampered) as exc:
            result.decode_error = exc.message
            return result
    try:
        result.document = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        result.decode_error = "neither a CloudEvent nor JSON"
    return result
