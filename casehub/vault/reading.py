"""What the hub's tools do with a record they read: open a sealed value, open an event's sealed fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from casehub.schemas.models import CaseEvent, parse_event
from casehub.vault.exceptions import Erased, Tampered
from casehub.vault.fields import has_tokens, open_fields
from casehub.vault.keystore import DataKeyStore
from casehub.vault.records import key_id_of, opened_value, without_vault_headers
from casehub.vault.tokens import ERASED


@dataclass
class OpenedEvent:
    """An event with its fields opened; ``erased``: the paths whose subject was erased (shown as ``[erased]``)."""

    event: CaseEvent
    erased: list[str] = field(default_factory=list)


def open_event(event: CaseEvent, store: DataKeyStore | None, *, erased_as: str | None = ERASED) -> OpenedEvent:
    """``event`` with its sealed fields opened (an event with none comes back as it is)."""
    data = event.to_json()
    if store is None or not has_tokens(data):
        return OpenedEvent(event)
    opened = open_fields(data, store, erased_as=erased_as)
    return OpenedEvent(parse_event(opened.data), opened.erased)


@dataclass
class OpenedRecord:
    """A sealed record value opened: the exact bytes sealed (None when erased), and the headers without the vault's."""

    value: bytes | None
    headers: list[tuple[str, bytes]]
    sealed: bool
    erased: bool = False
    problem: str | None = None


def open_record(value: bytes | None, headers: Sequence[tuple[str, bytes]], store: DataKeyStore | None) -> OpenedRecord:
    """A dead letter's value as it was before the hub sealed it (or as it is, when it was not sealed)."""
    plain_headers = [(k, bytes(v or b"")) for k, v in headers]
    key_id = key_id_of(plain_headers)
    if key_id is None:
        return OpenedRecord(value, plain_headers, sealed=False)
    kept = without_vault_headers(plain_headers)
    if store is None:
        return OpenedRecord(None, kept, sealed=True, problem="sealed; no key store to open it")
    try:
        return OpenedRecord(opened_value(store, key_id, value), kept, sealed=True)
    except Erased:
        return OpenedRecord(None, kept, sealed=True, erased=True, problem=f"{ERASED}: data key {key_id} destroyed")
    except Tampered as exc:
        return OpenedRecord(None, kept, sealed=True, problem=exc.message)


def opened_data(data: dict[str, Any], store: DataKeyStore) -> dict[str, Any]:
    """Event data (Avro or JSON form) with its sealed fields opened, ``[erased]`` for an erased subject's."""
    return open_fields(data, store).data
