"""Errors of the traffic simulator, under casehub.core.errors' families."""

from __future__ import annotations

from casehub.core.errors import ConfigError, HubError, TransportError


class SimulatorConfigError(ConfigError):
    """The options or the registry cannot produce the traffic asked for (e.g. no provincial office to own cases)."""


class SimulatorSendError(TransportError):
    """Writing simulated records to Kafka failed."""


class SimulatorBug(HubError):
    """The simulator broke its own promise (a record it meant to break passed validation); never expected."""
