"""Errors of webhook delivery: configuration the dispatcher cannot run with, and an unreadable secret store."""

from __future__ import annotations

from casehub.core.errors import ConfigError


class WebhookConfigError(ConfigError):
    """The dispatcher has nothing to deliver to, or a partner it was asked for has no URL or secret."""


class SecretStoreError(ConfigError):
    """The webhook secret store cannot be read or written."""
