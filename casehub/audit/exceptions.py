"""Errors of the tamper-evident audit log: its signing key, and a chain that does not verify."""

from __future__ import annotations

from casehub.core.errors import ConfigError, HubError


class AuditKeyError(ConfigError):
    """The audit signing key or a verify key is missing or unreadable."""


class AuditChainBroken(HubError):
    """A ``hub.audit`` partition's chain does not verify: a record was edited, removed or inserted."""
