"""Pydantic models of the case events (generated from the .avsc files) and dispatch on the event type."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from casehub.schemas._generated import (
    EVENT_MODELS,
    CaseAssessed,
    CaseAssigned,
    CaseClosed,
    CaseEscalated,
    CaseEvent,
    CaseFollowup,
    CaseLinked,
    CasePlanApproved,
    CaseReopened,
    CaseReported,
    CaseTransferred,
    CaseTriaged,
    Channel,
    ClosureReason,
    Consent,
    ConsentGiver,
    ConsentOverride,
    ConsentRecorded,
    ConsentScope,
    ConsentWithdrawn,
    DisabilityType,
    Enrichment,
    FollowupType,
    IssueCategory,
    LawfulBasis,
    LawfulBasisCode,
    LinkBasis,
    Location,
    MissedAction,
    NeedType,
    ReferralAccepted,
    ReferralRejected,
    ReferralRequested,
    ReferralRevoked,
    RejectionReason,
    ReporterType,
    RiskLevel,
    SensitiveBasis,
    SensitivityTag,
    ServiceDelivered,
    ServiceOutcome,
    ServiceType,
    Sex,
    Subject,
    TargetGroup,
)
from casehub.schemas.base import AvroRecord
from casehub.schemas.exceptions import EventInvalid, FieldError, UnknownEventType
from casehub.schemas.loader import EVENT_TYPES

__all__ = [
    "EVENT_MODELS",
    "AvroRecord",
    "CaseAssessed",
    "CaseAssigned",
    "CaseClosed",
    "CaseEscalated",
    "CaseEvent",
    "CaseFollowup",
    "CaseLinked",
    "CasePlanApproved",
    "CaseReopened",
    "CaseReported",
    "CaseTransferred",
    "CaseTriaged",
    "Channel",
    "ClosureReason",
    "Consent",
    "ConsentGiver",
    "ConsentOverride",
    "ConsentRecorded",
    "ConsentScope",
    "ConsentWithdrawn",
    "DisabilityType",
    "Enrichment",
    "FollowupType",
    "IssueCategory",
    "LawfulBasis",
    "LawfulBasisCode",
    "LinkBasis",
    "Location",
    "MissedAction",
    "NeedType",
    "ReferralAccepted",
    "ReferralRejected",
    "ReferralRequested",
    "ReferralRevoked",
    "RejectionReason",
    "ReporterType",
    "RiskLevel",
    "SensitiveBasis",
    "SensitivityTag",
    "ServiceDelivered",
    "ServiceOutcome",
    "ServiceType",
    "Sex",
    "Subject",
    "TargetGroup",
    "model_for",
    "parse_event",
]


def model_for(event_type: str) -> type[CaseEvent]:
    """The model class of ``event_type``; raises UnknownEventType for a type the contract does not define."""
    model = EVENT_MODELS.get(event_type)
    if model is None:
        raise UnknownEventType(f"unknown event type {event_type!r}", hint=f"known types: {', '.join(EVENT_TYPES)}")
    return model


def parse_event(data: dict[str, Any]) -> CaseEvent:
    """Build the right model from a dict (JSON or Avro data), dispatching on its ``type``.

    Raises EventInvalid with one FieldError per problem (the same shape validation reports).
    """
    from casehub.schemas.validation import field_errors  # validation imports models

    if not isinstance(data, dict):
        raise EventInvalid([FieldError("", f"an event is a JSON object, got {type(data).__name__}")])
    event_type = data.get("type")
    if not isinstance(event_type, str) or event_type not in EVENT_MODELS:
        known = ", ".join(EVENT_TYPES)
        message = "is missing" if event_type is None else f"{event_type!r} is not an event type"
        raise EventInvalid([FieldError("type", f"{message}; expected one of: {known}")])
    try:
        return EVENT_MODELS[event_type].model_validate(data)
    except ValidationError as exc:
        raise EventInvalid(field_errors(exc), event_type=event_type) from exc
