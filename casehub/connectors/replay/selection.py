"""What a replay selects: filters on event type, case id, tambon and province, read from headers before decoding."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from casehub.ops.records import header
from casehub.schemas.codec import Decoded, decode
from casehub.schemas.exceptions import DecodeError
from casehub.vault.exceptions import Tampered
from casehub.vault.keystore import DataKeyStore
from casehub.vault.reading import open_event


class Candidate:
    """One record read by a replay; its event is decoded at most once, and only when something needs it."""

    __slots__ = ("record", "store", "_decoded", "_error", "erased", "sealed")

    def __init__(self, record: Any, store: DataKeyStore | None = None) -> None:
        self.record = record
        self.store = store  # the hub's data keys: sealed fields are opened when the event is decoded
        self._decoded: Decoded | None = None
        self._error: str | None = None
        self.erased: list[str] = []
        """Fields whose subject was erased (None in the decoded event): such an event is not replayed."""
        self.sealed = False
        """Whether the record held sealed fields (its decoded event holds them opened)."""

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return list(self.record.headers or [])

    def decoded(self) -> Decoded | None:
        """The decoded CloudEvent, or None if the value is not one (``error`` says why)."""
        if self._decoded is None and self._error is None:
            try:
                decoded = decode(self.record.value, self.headers)
                opened = open_event(decoded.event, self.store, erased_as=None)
                self.sealed = opened.event is not decoded.event
                self.erased = opened.erased
                self._decoded = replace(decoded, event=opened.event) if self.sealed else decoded
            except (DecodeError, Tampered) as exc:
                self._error = exc.message
        return self._decoded

    @property
    def error(self) -> str | None:
        return self._error

    def event_type(self) -> str | None:
        found = header(self.record.headers, "ce_type")
        if found is not None:
            return found.decode()
        decoded = self.decoded()
        return decoded.event.type if decoded else None

    def source(self) -> str | None:
        """The CloudEvents source (``ce_source`` header; structured records are decoded for it)."""
        found = header(self.record.headers, "ce_source")
        if found is not None:
            return found.decode()
        decoded = self.decoded()
        return decoded.source if decoded else None

    def case_id(self) -> str | None:
        found = header(self.record.headers, "ce_subject")
        if found is not None:
            return found.decode()
        decoded = self.decoded()
        return decoded.event.case_id if decoded else None


@dataclass(frozen=True)
class Filters:
    """Records pass when they match every given filter (each filter: any of its values)."""

    event_types: frozenset[str] = field(default_factory=frozenset)
    case_ids: frozenset[str] = field(default_factory=frozenset)
    tambons: frozenset[str] = field(default_factory=frozenset)
    provinces: frozenset[str] = field(default_factory=frozenset)

    def as_dict(self) -> dict[str, list[str]]:
        return {name: sorted(values) for name, values in self.__dict__.items() if values}

    def passes(self, candidate: Candidate) -> bool | None:
        """True/False, or None when the record cannot be decoded and a filter needs its body."""
        if self.event_types and candidate.event_type() not in self.event_types:
            return False if candidate.event_type() is not None or candidate.error is None else None
        if self.case_ids and candidate.case_id() not in self.case_ids:
            return False if candidate.case_id() is not None or candidate.error is None else None
        if self.tambons or self.provinces:
            decoded = candidate.decoded()
            if decoded is None:
                return None
            tambon = decoded.event.location.tambon_code
            province = decoded.event.location.province_code or (tambon[:2] if tambon else None)
            if self.tambons and tambon not in self.tambons:
                return False
            if self.provinces and province not in self.provinces:
                return False
        return True
