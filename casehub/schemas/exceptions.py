"""Errors of the event contract: unknown schemas, undecodable records, invalid events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casehub.core.errors import ContractError


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field: ``field`` is a dotted path such as ``subject.citizen_id``."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The JSON shape the gateway returns and the DLQ headers carry."""
        return {"field": self.field, "message": self.message}


class UnknownEventType(ContractError):
    """An event type (or schema id) the contract does not define."""


class SchemaChanged(ContractError):
    """A schema differs from its frozen version without a new version number."""


class DecodeError(ContractError):
    """A Kafka record could not be read as a case event (wire format, headers, Avro or JSON body).

    ``errors`` lists field-level problems when the body was readable but broke the model.
    """

    def __init__(self, message: str, *, errors: list[FieldError] | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.errors: list[FieldError] = errors or []


class EncodeError(ContractError):
    """An event could not be written in the wire format (a value the Avro schema cannot hold)."""


class EventInvalid(ContractError):
    """An event breaks the contract's rules; ``errors`` lists every field at fault."""

    def __init__(self, errors: list[FieldError], **context: Any) -> None:
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors)
        super().__init__(f"invalid event: {summary}", **context)
        self.errors = errors
