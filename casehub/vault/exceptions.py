"""Errors of the vault: a master key that cannot be used, a ciphertext that does not open, an erasure refused."""

from __future__ import annotations

from casehub.core.errors import ConfigError, HubError


class VaultError(HubError):
    """Something about the hub's data keys or encrypted fields went wrong."""


class MasterKeyError(ConfigError, VaultError):
    """The master key is missing, unreadable or not 32 bytes."""


class MissingKeysTopic(VaultError):
    """The cluster has no data keys topic (``casehub topics apply`` creates it)."""


class Tampered(VaultError):
    """A ciphertext does not open under its key: it was altered, moved to another field, or its key is not its own."""


class Erased(VaultError):
    """The data key a record was encrypted under has been destroyed: the subject was erased."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"data key {key_id} was destroyed (its subject was erased)",
                         hint="what was encrypted under it is gone for good; nothing can bring it back")
        self.key_id = key_id
