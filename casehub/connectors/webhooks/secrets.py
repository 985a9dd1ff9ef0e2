"""The hub's webhook signing secrets: one ``whsec_`` secret per partner, in a 0600 JSON file under settings.home."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from casehub.connectors.webhooks.exceptions import SecretStoreError
from casehub.connectors.webhooks.signing import new_secret
from casehub.core.settings import Settings


def store_path(settings: Settings) -> Path:
    """``settings.webhook_secrets_path``, else ``<home>/webhooks/secrets.json``."""
    return settings.webhook_secrets_path or settings.home / "webhooks" / "secrets.json"


class SecretStore:
    """Issues and reads partners' signing secrets. The hub signs with them, so they are kept, not hashed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretStore:
        return cls(store_path(settings))

    def _read(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            entries = document["secrets"]
            if not isinstance(entries, dict):
                raise TypeError("secrets is not an object")
            return entries
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SecretStoreError(f"cannot read webhook secrets {self.path}: {exc}",
                                   hint="restore the file, or delete it and issue new secrets") from exc

    def _write(self, entries: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_suffix(".tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump({"version": 1, "secrets": entries}, handle, indent=1, sort_keys=True)
            os.replace(temporary, self.path)
        except OSError as exc:
            raise SecretStoreError(f"cannot write webhook secrets {self.path}: {exc}") from exc

    def get(self, org: str) -> SecretStr | None:
        """Partner ``org``'s current secret, or None if none was issued."""
        entry = self._read().get(org)
        return SecretStr(entry["secret"]) if entry else None

    def issued(self) -> dict[str, str]:
        """``{org: issued_at}`` of every partner with a secret (no secret values)."""
        return {org: str(entry.get("issued_at", "")) for org, entry in sorted(self._read().items())}

    def issue(self, org: str, *, rotate: bool = False) -> tuple[SecretStr, bool]:
        """Partner ``org``'s secret and whether it is new: the existing one unless ``rotate`` (or none exists)."""
        entries = self._read()
        if org in entries and not rotate:
            return SecretStr(entries[org]["secret"]), False
        secret = new_secret()
        entries[org] = {"secret": secret, "issued_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self._write(entries)
        return SecretStr(secret), True
