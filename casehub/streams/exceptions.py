"""Errors of the stream pipeline, under casehub's ``ProcessingError``, ``ConfigError`` and ``TransportError`` families."""

from __future__ import annotations

from typing import Any

from casehub.core.errors import ConfigError, ProcessingError, TransportError

Record = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]
"""A record to produce: topic, key, value, headers."""


class StageRejected(ProcessingError):
    """A stage refused a record; the record goes to ``hub.dlq`` unchanged with this stage and reason."""

    records: tuple[Record, ...] = ()
    """What else the refusal produces, in the dead letter's transaction (an authorization refusal's hub.audit record)."""

    def __init__(self, message: str, *, stage: str, exception: str | None = None, **context: Any) -> None:
        super().__init__(message, stage=stage, **context)
        self.exception = exception or type(self).__name__


class CaseRightRefused(StageRejected):
    """The sender may not do this to this case (``authorize``): dead-lettered, and the refusal audited."""

    def __init__(self, message: str, *, rule: str, records: tuple[Record, ...], **context: Any) -> None:
        super().__init__(message, stage="authorize", rule=rule, **context)
        self.rule = rule
        self.records = records


class WorkerConfigError(ConfigError):
    """The worker cannot start with these settings (data folder, registry, topics)."""


class FaustIncompatible(WorkerConfigError):
    """The installed faust-streaming lacks a private name casehub relies on (``faust_compat.self_check``)."""


class OutputRefused(TransportError):
    """The cluster refused a record the worker cannot dead-letter (a table changelog, a dead letter itself): the
    worker stops rather than commit without it."""
