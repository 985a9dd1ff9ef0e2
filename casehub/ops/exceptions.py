"""Errors of the operator tools, under casehub.core.errors' families."""

from __future__ import annotations

from casehub.core.errors import BrokerError


class TopicProvisioningError(BrokerError):
    """Topics the registry implies could not be planned or created as planned."""
