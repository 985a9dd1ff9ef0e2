"""Errors of the operator tools, under casehub.core.errors' families."""

from __future__ import annotations

from casehub.core.errors import BrokerError, ConfigError


class TopicProvisioningError(BrokerError):
    """Topics the registry implies could not be planned or created as planned."""


class UnknownTopic(ConfigError):
    """An operator named a topic the cluster does not have."""


class RangeStalled(BrokerError):
    """Reading a range made no progress (a transaction left open holds the last stable offset back)."""


class BadSelection(ConfigError):
    """An operator's selection (offsets, times, filters, coordinates) cannot be understood or selects nothing valid."""


class RecordNotFound(ConfigError):
    """No record at the coordinates an operator gave."""
