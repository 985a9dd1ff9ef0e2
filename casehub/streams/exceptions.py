"""Errors of the stream pipeline, under casehub's ``ProcessingError`` and ``ConfigError`` families."""

from __future__ import annotations

from typing import Any

from casehub.core.errors import ConfigError, ProcessingError


class StageRejected(ProcessingError):
    """A stage refused a record; the record goes to ``hub.dlq`` unchanged with this stage and reason."""

    def __init__(self, message: str, *, stage: str, exception: str | None = None, **context: Any) -> None:
        super().__init__(message, stage=stage, **context)
        self.exception = exception or type(self).__name__


class WorkerConfigError(ConfigError):
    """The worker cannot start with these settings (data folder, registry, topics)."""
