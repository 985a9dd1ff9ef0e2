"""API keys: issued once, stored only as SHA-256 hashes in a small file under ``settings.home``.

Why a file and not a compacted ``hub.keys`` topic: keys are credentials, and a file readable only by the
hub's service account (mode 0600) keeps even their hashes out of a topic that every operator tool can
read; ``casehub partners key`` works without a running cluster; and the gateway notices a new or revoked
key within a second by watching the file's modification time. Several gateway instances share it on a
common volume. A key is 32 random bytes (256 bits), so a plain SHA-256 cannot be reversed by enumeration
(unlike citizen ids, which need a keyed HMAC).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from casehub.connectors.gateway.exceptions import KeyStoreUnreadable
from casehub.core.settings import Settings

KEY_PREFIX = "chk_"
OPERATORS = "@operators"
"""The organisation of operator keys: no partner id can be it (topics.ORG_ID), so an operator key never acts as one."""
RELOAD_CHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the store keeps about one key: never the key itself."""

    key_id: str
    org: str
    sha256: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        """Whether the key still authenticates."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly issued key: ``secret`` is shown to the operator once and stored nowhere."""

    record: KeyRecord
    secret: str


def key_store_path(settings: Settings) -> Path:
    """Where the gateway and ``casehub partners key`` keep key hashes."""
    return settings.home / "keys" / "api-keys.json"


def digest(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class KeyStore:
    """The key file: issue and revoke (operators), authenticate (the gateway; reloads when the file changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records: dict[str, KeyRecord] = {}
        self._by_hash: dict[str, KeyRecord] = {}
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._load()

    @classmethod
    def for_settings(cls, settings: Settings) -> KeyStore:
        """The store under ``settings.home``."""
        return cls(key_store_path(settings))

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _load(self) -> None:
        stamp = self._file_stamp()
        records: dict[str, KeyRecord] = {}
        if stamp is not None:
            try:
                document = json.loads(self.path.read_text(encoding="utf-8"))
                records = {item["key_id"]: KeyRecord(**item) for item in document["keys"]}
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise KeyStoreUnreadable(
                    f"the API key store {self.path} cannot be read: {exc}",
                    hint="restore it from backup, or move it away and issue new keys with `casehub partners key ORG`",
                ) from exc
        self._records = records
        self._by_hash = {r.sha256: r for r in records.values() if r.active}
        self._stamp = stamp

    def refresh(self, *, force: bool = False) -> None:
        """Re-read the file if it changed since the last look (looked at most once a second unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_CHECK_SECONDS:
            return
        self._checked = now
        if self._file_stamp() != self._stamp:
            self._load()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"keys": [asdict(r) for r in sorted(self._records.values(), key=lambda r: r.created_at)]}
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".api-keys.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(document, file, indent=1)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._load()

    def issue(self, org: str) -> IssuedKey:
        """A new key for ``org``; the returned secret is the only copy."""
        self._load()
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        record = KeyRecord(key_id="key_" + secrets.token_hex(6), org=org, sha256=digest(secret), created_at=_now())
        self._records[record.key_id] = record
        self._save()
        return IssuedKey(record, secret)

    def revoke(self, org: str, key_id: str | None = None) -> list[KeyRecord]:
        """Revoke ``org``'s active keys (or only ``key_id``); returns the keys revoked."""
        self._load()
        chosen = [
            r for r in self._records.values() if r.org == org and r.active and (key_id is None or r.key_id == key_id)
        ]
        stamp = _now()
        for record in chosen:
            self._records[record.key_id] = KeyRecord(**{**asdict(record), "revoked_at": stamp})
        if chosen:
            self._save()
        return [self._records[r.key_id] for r in chosen]

    def keys_of(self, org: str) -> list[KeyRecord]:
        """Every key ever issued to ``org`` (active and revoked), oldest first."""
        self._load()
        return sorted((r for r in self._records.values() if r.org == org), key=lambda r: r.created_at)

    def authenticate(self, secret: str) -> KeyRecord | None:
        """The active key record ``secret`` belongs to, or None."""
        self.refresh()
        if not secret.startswith(KEY_PREFIX):
            return None
        found = self._by_hash.get(digest(secret))
        if found is None:
            self.refresh(force=True)  # a key issued this very second: one stat() to find out
            found = self._by_hash.get(digest(secret))
        return found
