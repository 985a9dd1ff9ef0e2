"""Validate stage: decode an inbound record (binary or structured CloudEvent), check the contract, fix its source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casehub.core import topics
from casehub.schemas import HUB_WRITTEN
from casehub.schemas.codec import decode
from casehub.schemas.exceptions import DecodeError, EventInvalid, FieldError
from casehub.schemas.models import CaseEvent
from casehub.schemas.validation import validate_event
from casehub.streams.dlq import Origin
from casehub.streams.exceptions import StageRejected
from casehub.streams.keys import shard_of_case
from casehub.streams.pseudonyms import Pseudonyms

STAGE = "validate"


@dataclass(frozen=True, slots=True)
class Accepted:
    """An event that passed validation, with the source the hub derived from its inbound topic."""

    event: CaseEvent
    org: str
    source: str
    mode: str


def _describe(errors: list[FieldError]) -> str:
    return "; ".join(f"{e.field}: {e.message}" for e in errors)


def read_event(origin: Origin, pseudonyms: Pseudonyms | None = None) -> tuple[CaseEvent, str]:
    """Decode the record (no domain rules): the event and the org whose inbound topic it came from.

    A pseudonymised partner names cases and referrals by the references the hub gave it; they are turned back
    into the hub's ids here, with that partner's key, before anything else reads the event.
    """
    org = topics.org_of_inbound(origin.topic)
    if org is None:
        raise StageRejected(f"{origin.topic} is not a partner inbound topic", stage=STAGE)
    try:
        decoded = decode(origin.value, list(origin.headers))
    except DecodeError as exc:
        detail = f" ({_describe(exc.errors)})" if exc.errors else ""
        raise StageRejected(f"cannot decode: {exc.message}{detail}", stage=STAGE, exception="DecodeError") from exc
    # the partner may not set what the hub fills in; its claimed ce_source is replaced by the topic's org
    event = decoded.event.model_copy(update={"subject_token": None, "enrichment": None})
    if pseudonyms is not None:
        event = _revealed(event, org, pseudonyms)
    return event, org


def _revealed(event: CaseEvent, org: str, pseudonyms: Pseudonyms) -> CaseEvent:
    changes: dict[str, str] = {}
    for field, space in (("case_id", "case"), ("referral_id", "referral")):
        value = getattr(event, field, None)
        if not isinstance(value, str) or not Pseudonyms.is_reference(space, value):
            continue
        real = pseudonyms.reveal(org, space, value)
        if real is None:
            raise StageRejected(f"{event.type} {event.id}: {field} is not a {space} reference the hub gave {org}",
                                stage=STAGE)
        changes[field] = real
    return event.model_copy(update=changes) if changes else event


def decoded(origin: Origin, pseudonyms: Pseudonyms | None = None) -> Accepted:
    """Decode an inbound record without the contract's checks (``read_event``), as an :class:`Accepted`: for
    records already validated, and tests of the later stages."""
    event, org = read_event(origin, pseudonyms)
    return Accepted(event=event, org=org, source=topics.event_source(org), mode=_mode(origin))


def accept(origin: Origin, *, now: datetime, pseudonyms: Pseudonyms | None = None) -> Accepted:
    """Decode and validate an inbound record, or raise StageRejected saying why (it then goes to ``hub.dlq``)."""
    event, org = read_event(origin, pseudonyms)
    if event.type in HUB_WRITTEN:
        raise StageRejected(f"{event.type} is written by the hub only; partners may not publish it", stage=STAGE)
    try:
        validate_event(event, now=now)
    except EventInvalid as exc:
        raise StageRejected(
            f"{event.type} {event.id}: {_describe(exc.errors)}", stage=STAGE, exception="EventInvalid"
        ) from exc
    if event.type == "case.reported" and event.case_id:
        raise StageRejected(
            f"case.reported {event.id}: case_id must be null; the hub assigns case ids", stage=STAGE
        )
    if event.case_id and shard_of_case(event.case_id) is None:
        raise StageRejected(
            f"{event.type} {event.id}: case_id {event.case_id!r} was not issued by the hub", stage=STAGE
        )
    decoded_mode = _mode(origin)
    return Accepted(event=event, org=org, source=topics.event_source(org), mode=decoded_mode)


def _mode(origin: Origin) -> str:
    content_type = next((v for k, v in origin.headers if k.lower() == "content-type"), b"")
    return "binary" if content_type.startswith(b"application/avro") else "structured"
