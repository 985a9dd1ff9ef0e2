"""Domain validation of case events, with field-level messages a partner's developer can act on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from pydantic import ValidationError
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as PinError
from stdnum.th import pin

from casehub.core import geography
from casehub.core.topics import ORG_ID
from casehub.schemas.exceptions import EventInvalid, FieldError
from casehub.schemas.markings import field_markings
from casehub.schemas.models import CaseEvent, Consent, ConsentOverride, Location, parse_event

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a sender's clock may be before occurred_at counts as 'in the future'."""
THAILAND = timezone(timedelta(hours=7), "ICT")
CONSENT_REQUIRED_PREFIXES = ("ngo-", "private-")
"""Referrals to these partners need the subject's consent to disclosure, or a recorded override."""
_LAWFUL_BASIS_HINT = 'the PDPA lawful basis (ฐานทางกฎหมาย) for this event is required, e.g. {"basis": "public_task"}'


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Turn a pydantic ValidationError into FieldErrors, with the wording ``validate_event`` uses."""
    errors: list[FieldError] = []
    for error in exc.errors(include_url=False):
        field = _path(tuple(error["loc"]))
        kind = error["type"]
        if kind == "missing":
            message = _LAWFUL_BASIS_HINT if field == "lawful_basis" else "is required"
        elif kind == "extra_forbidden":
            message = "is not a field of this event type; check the spelling against the schema"
        elif kind == "literal_error":
            expected = error.get("ctx", {}).get("expected", "")
            message = f"must be one of {expected}"
        elif kind == "timezone_aware":
            message = "needs a UTC offset, e.g. 2026-11-28T10:15:00+07:00 or 2026-11-28T03:15:00Z"
        else:
            message = str(error["msg"])  # pydantic's words name the rule; the input is never echoed (PDPA)
        errors.append(FieldError(field, message))
    return errors


def check_citizen_id(value: str) -> str | None:
    """Why ``value`` is not a valid 13-digit Thai citizen id (เลขประจำตัวประชาชน), or None if it is."""
    if not value.isdigit():
        return "must be the 13 digits of a Thai citizen id (เลขประจำตัวประชาชน), without dashes or spaces"
    try:
        pin.validate(value)
    except InvalidLength:
        return f"must be 13 digits (เลขประจำตัวประชาชน); got {len(value)}"
    except InvalidComponent:
        return "a Thai citizen id cannot start with 0 or 9"
    except InvalidChecksum:
        return "check digit is wrong: the 13th digit does not match the first 12 (mistyped?)"
    except (InvalidFormat, PinError):
        return "is not a valid Thai citizen id"
    return None


def _location_errors(location: Location) -> Iterator[FieldError]:
    if location.tambon_code:
        place = geography.tambon(location.tambon_code)
        if place is None:
            yield FieldError(
                "location.tambon_code",
                "is not a DOPA tambon code (รหัสตำบล): give the 6-digit code of a current tambon, e.g. 840503",
            )
            return
        for field, given, expected in (
            ("amphoe_code", location.amphoe_code, place.amphoe_code),
            ("province_code", location.province_code, place.province_code),
        ):
            if given and given != expected:
                yield FieldError(f"location.{field}", "does not contain the tambon of location.tambon_code")
        return
    if not (location.address_text or location.postal_code):
        yield FieldError("location", "give tambon_code, or address_text and/or postal_code that name exactly one tambon")
        return
    field = "location.address_text" if location.address_text else "location.postal_code"
    places = geography.resolve_location(location.address_text, location.postal_code)
    if not places:
        yield FieldError(field, "matches no DOPA tambon; check the ตำบล/อำเภอ/จังหวัด names or give tambon_code")
    elif len(places) > 1:
        yield FieldError(
            field,
            f"is ambiguous: it matches {len(places)} tambons; "
            "add the amphoe, province or postal code, or give tambon_code",
        )


def _not_in_future(field: str, value: datetime | date | None, now: datetime) -> Iterator[FieldError]:
    if value is None:
        return
    if isinstance(value, datetime):
        if value > now + CLOCK_SKEW:
            yield FieldError(field, f"is in the future (hub time {now.isoformat(timespec='seconds')})")
    elif value > now.astimezone(THAILAND).date():
        yield FieldError(field, "is in the future")


def _happened_at(event: CaseEvent) -> Iterator[tuple[str, datetime | date | None]]:
    """Every field that records something that already happened, so cannot be in the future."""
    yield "occurred_at", event.occurred_at
    subject = getattr(event, "subject", None)
    if subject is not None:
        yield "subject.birth_date", subject.birth_date
    consent = getattr(event, "consent", None)
    if isinstance(consent, Consent):
        yield "consent.recorded_at", consent.recorded_at
    for name in ("approved_at", "delivered_on", "followup_date"):
        if name in type(event).model_fields:
            yield name, getattr(event, name)


def _consent_errors(event: CaseEvent, recipient: str, always: bool) -> Iterator[FieldError]:
    if not (always or recipient.startswith(CONSENT_REQUIRED_PREFIXES)):
        return
    consent: Consent | None = getattr(event, "consent", None)
    override: ConsentOverride | None = getattr(event, "consent_override", None)
    if override is not None:
        if not override.reason.strip():
            yield FieldError("consent_override.reason", "must say why the case proceeds without consent")
        return
    if consent is None:
        yield FieldError(
            "consent",
            f"disclosing the case to {recipient} needs the subject's consent (ความยินยอม) "
            "or a consent_override with a reason",
        )
    elif not consent.to_disclosure:
        yield FieldError(
            "consent.to_disclosure",
            f"is false: disclosing the case to {recipient} needs consent to disclosure or a consent_override with a reason",
        )


def _marked_value(event: CaseEvent, path: str) -> Any:
    value: Any = event
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _rule_errors(event: CaseEvent, now: datetime) -> Iterator[FieldError]:
    if event.type != "case.reported" and not event.case_id:
        yield FieldError("case_id", f"is required on {event.type}: the hub's case id (เลขที่เคส) this event is about")
    subject = getattr(event, "subject", None)
    if subject is not None and subject.citizen_id is not None:
        problem = check_citizen_id(subject.citizen_id)
        if problem:
            yield FieldError("subject.citizen_id", problem)
    yield from _location_errors(event.location)
    for field, value in _happened_at(event):
        yield from _not_in_future(field, value, now)
    if event.sensitivity and event.lawful_basis.sensitive_basis is None:
        tags = ", ".join(event.sensitivity)
        yield FieldError(
            "lawful_basis.sensitive_basis",
            f"the event holds sensitive data ({tags}), so it needs a PDPA s26 basis, e.g. vital_interest_incapable or social_protection",
        )
    for marking in field_markings(event.type):
        value = _marked_value(event, marking.path)
        if value is None:
            continue
        if marking.sensitivity and marking.sensitivity not in event.sensitivity:
            yield FieldError(marking.path, f"holds {marking.sensitivity} data: add {marking.sensitivity!r} to sensitivity")
        if marking.format == "org_id" and not ORG_ID.match(str(value)):
            yield FieldError(
                marking.path, "is not an organisation id; expected e.g. tc-840503, pso-84, lao-6501, ngo-<slug>"
            )
    if event.type == "case.triaged" and event.risk_level is None:
        yield FieldError("risk_level", "a triage must set the risk level: high, medium or low")
    if event.type == "referral.requested":
        yield from _consent_errors(event, str(getattr(event, "recipient", "")), always=False)
    if event.type == "case.transferred":
        yield from _consent_errors(event, str(getattr(event, "to_unit", "")), always=True)
    if (
        event.type == "service.delivered"
        and getattr(event, "outcome", None) != "successful"
        and not (getattr(event, "outcome_reason", None) or "").strip()
    ):
        yield FieldError("outcome_reason", "is required when the outcome is partial or unsuccessful")


def validate_event(event: CaseEvent, *, now: datetime | None = None) -> CaseEvent:
    """Check the domain rules; returns the event, or raises EventInvalid listing every FieldError."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    errors = list(_rule_errors(event, moment))
    if errors:
        raise EventInvalid(errors, event_type=event.type, event_id=event.id)
    return event


def validate_data(data: dict[str, Any], *, now: datetime | None = None) -> CaseEvent:
    """Parse a dict into its event model and check the domain rules: the one call for the gateway and the pipeline."""
    return validate_event(parse_event(data), now=now)
