"""Deliberately broken records: each one knows how it was broken, and is checked to fail the contract that way."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from casehub.connectors.simulator.exceptions import SimulatorBug
from casehub.connectors.simulator.lifecycle import event_id
from casehub.core.topics import event_source
from casehub.schemas.codec import WireRecord, decode, encode_binary, encode_structured
from casehub.schemas.exceptions import ContractError, DecodeError, EventInvalid
from casehub.schemas.models import CaseEvent
from casehub.schemas.validation import CONSENT_REQUIRED_PREFIXES, validate_event

FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)
# tambon names that dozens of amphoes share: written alone, they cannot name one tambon
AMBIGUOUS_TAMBON_NAMES = ("ในเมือง", "หนองบัว", "บ้านใหม่")

MALFORMED_REASONS: dict[str, tuple[str, str | None]] = {
    # reason: (what was done, the field validation names; None = the record cannot even be decoded)
    "garbage_bytes": ("the value is random bytes under valid ce_* headers", None),
    "wrong_schema": ("the JSON body is another event type's fields under this type", None),
    "bad_check_digit": ("the citizen id's 13th (check) digit is wrong", "subject.citizen_id"),
    "unknown_tambon": ("the DOPA tambon code does not exist", "location.tambon_code"),
    "ambiguous_address": ("the address text names a tambon without amphoe or province", "location.address_text"),
    "missing_lawful_basis": ("the PDPA lawful basis is left out", "lawful_basis"),
    "missing_consent": ("a referral to an NGO/private partner or a transfer without consent or override", "consent"),
    "missing_case_id": ("a follow-up event without the hub's case id", "case_id"),
    "future_birth_date": ("the subject's birth date is in the future", "subject.birth_date"),
    "future_occurred_at": ("occurred_at is in the future", "occurred_at"),
}


@dataclass(frozen=True, slots=True)
class Broken:
    """A malformed record and why it must be refused."""

    record: WireRecord
    reason: str
    field: str | None
    event_id: str

    @property
    def detail(self) -> str:
        """What was broken, in words."""
        return MALFORMED_REASONS[self.reason][0]


def applicable(event: CaseEvent) -> list[str]:
    """The breakages that make sense for this event."""
    reasons = ["garbage_bytes", "wrong_schema", "unknown_tambon", "ambiguous_address", "missing_lawful_basis",
               "future_occurred_at"]
    subject = getattr(event, "subject", None)
    if subject is not None:
        reasons.append("future_birth_date")
        if subject.citizen_id:
            reasons.append("bad_check_digit")
    if event.case_id:
        reasons.append("missing_case_id")
    recipient = str(getattr(event, "recipient", "") or "")
    if event.type == "case.transferred" or (event.type == "referral.requested" and recipient.startswith(CONSENT_REQUIRED_PREFIXES)):
        reasons.append("missing_consent")
    return reasons


def break_event(rng: random.Random, event: CaseEvent, org: str, *, structured: bool, schema_base: str) -> Broken:
    """A broken copy of ``event`` under a fresh id (so the hub's exact dedupe never hides it), checked to fail."""
    reason = rng.choice(applicable(event))
    new_id = event_id(rng, org, event.type, event.occurred_at)
    event = event.model_copy(update={"id": new_id})
    source = event_source(org)
    record = _broken_record(rng, reason, event, source, structured=structured, schema_base=schema_base)
    field = MALFORMED_REASONS[reason][1]
    _check_refused(record, reason, field)
    return Broken(record, reason, field, new_id)


def _with(event: CaseEvent, **changes: Any) -> CaseEvent:
    """A model copy without validation: the point is to carry a value the contract refuses."""
    return event.model_copy(update=changes)


def _broken_record(rng: random.Random, reason: str, event: CaseEvent, source: str, *, structured: bool,
                   schema_base: str) -> WireRecord:
    encode = partial(encode_structured if structured else encode_binary, schema_base=schema_base)
    if reason == "garbage_bytes":
        valid = encode_binary(event, source=source, schema_base=schema_base)
        # 0xFF... is an endless varint: no Avro reader takes it for a string length
        return WireRecord(key=valid.key, value=b"\xff" * 10 + rng.randbytes(rng.randint(20, 200)), headers=valid.headers)
    if reason == "wrong_schema":
        return _json_record(event, source, schema_base, claimed_type=_other_type(event.type), drop=("type",))
    if reason == "missing_lawful_basis":
        return _json_record(event, source, schema_base, claimed_type=event.type, drop=("lawful_basis",))
    if reason == "bad_check_digit":
        subject = event.subject  # type: ignore[attr-defined]
        digits = subject.citizen_id
        wrong = digits[:-1] + str((int(digits[-1]) + rng.randint(1, 9)) % 10)
        return encode(_with(event, subject=_with(subject, citizen_id=wrong)), source=source)
    if reason == "future_birth_date":
        subject = event.subject  # type: ignore[attr-defined]
        return encode(_with(event, subject=_with(subject, birth_date=date(2999, 1, 1))), source=source)
    if reason == "unknown_tambon":
        location = event.location.model_copy(update={"tambon_code": f"{event.location.tambon_code or '10'}"[:2] + "9999",
                                                     "address_text": None, "postal_code": None})
        return encode(_with(event, location=location), source=source)
    if reason == "ambiguous_address":
        text = "ต." + rng.choice(AMBIGUOUS_TAMBON_NAMES)
        location = event.location.model_copy(update={"tambon_code": None, "address_text": text, "postal_code": None})
        return encode(_with(event, location=location), source=source)
    if reason == "missing_consent":
        return encode(_with(event, consent=None, consent_override=None), source=source)
    if reason == "missing_case_id":
        return encode(_with(event, case_id=None), source=source)
    if reason == "future_occurred_at":
        return encode(_with(event, occurred_at=FAR_FUTURE), source=source)
    raise SimulatorBug(f"no breakage named {reason!r}")


def _other_type(event_type: str) -> str:
    return "case.closed" if event_type != "case.closed" else "case.assessed"


def _json_record(event: CaseEvent, source: str, schema_base: str, *, claimed_type: str, drop: tuple[str, ...]) -> WireRecord:
    """A structured CloudEvent claiming ``claimed_type`` whose data is ``event`` without the ``drop`` fields."""
    record = encode_structured(event, source=source, schema_base=schema_base)
    document = json.loads(record.value)
    document["type"] = claimed_type
    document.pop("dataschema", None)
    for name in drop:
        document["data"].pop(name, None)
    value = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return WireRecord(key=record.key, value=value, headers=record.headers)


def _check_refused(record: WireRecord, reason: str, field: str | None) -> None:
    """The contract must refuse the record, on the field the reason names: otherwise the simulator would lie."""
    try:
        validate_event(decode(record.value, record.headers).event)
    except DecodeError as exc:
        fields = {e.field for e in exc.errors}
        if field is None or field in fields:
            return
        raise SimulatorBug(f"{reason}: decoding failed on {sorted(fields)} instead of {field}") from exc
    except EventInvalid as exc:
        fields = {e.field for e in exc.errors}
        if field is not None and field in fields:
            return
        raise SimulatorBug(f"{reason}: validation failed on {sorted(fields)} instead of {field}") from exc
    except ContractError as exc:
        raise SimulatorBug(f"{reason}: refused for another reason: {exc}") from exc
    raise SimulatorBug(f"{reason}: the broken record passed validation")
