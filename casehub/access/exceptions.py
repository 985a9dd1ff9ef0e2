"""Errors of Kafka access: certificates, credentials and ACLs."""

from __future__ import annotations

from casehub.core.errors import AuthError, BrokerError, ConfigError


class CertificateError(ConfigError):
    """The development CA or a certificate could not be made or read."""


class AccessApplyFailed(BrokerError):
    """The cluster refused a SCRAM user or ACL change."""


class CredentialsRefused(AuthError):
    """A partner asked for credentials it may not have (unknown org, or credentials already issued)."""
