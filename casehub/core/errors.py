"""The one error hierarchy of casehub: a root, families, and the place third-party errors are mapped.

Every error a user or partner can see derives from :class:`HubError`. Packages add
their own subclasses in their ``exceptions.py``; library errors (kafka, avro,
HTTP) are wrapped where they enter, with :func:`wrap_kafka_error` and friends,
so callers only ever catch casehub types.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Root of every casehub error. ``hint`` says what the user can do about it."""

    def __init__(self, message: str, *, hint: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.context = context

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(HubError):
    """Settings or configuration files are missing or contradict themselves."""


class BrokerError(HubError):
    """The Kafka cluster could not be started, reached or administered."""


class TransportError(BrokerError):
    """A Kafka client operation failed (produce, consume, admin)."""


class ContractError(HubError):
    """A record does not satisfy the event contract (schema, wire format, domain rules)."""


class RegistryError(ConfigError):
    """The partner registry is invalid or does not know an organisation."""


class AuthError(HubError):
    """A caller could not be authenticated or is not entitled to what it asked for."""


class ProcessingError(HubError):
    """A stream stage could not process a record; it goes to the dead-letter topic."""

    def __init__(self, message: str, *, stage: str, **context: Any) -> None:
        super().__init__(message, **context)
        self.stage = stage


def wrap_kafka_error(exc: BaseException, action: str) -> TransportError:
    """Map a kafka-python or aiokafka error into casehub's TransportError."""
    name = type(exc).__name__
    return TransportError(
        f"Kafka {action} failed: {name}: {exc}",
        hint="check that the cluster at CASEHUB_KAFKA_BOOTSTRAP is up (`casehub broker status`)",
    )
