"""The master key that wraps every data key: from Settings, a file, or (local clusters) made once under the home."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casehub.core.settings import Settings
from casehub.vault.exceptions import MasterKeyError, Tampered

KEY_BYTES = 32
_NONCE = 12
_WRAP_VERSION = b"\x01"


def master_key_file(settings: Settings) -> Path:
    """Where a local cluster's generated master key lives (mode 0600), beside the hub's other secrets."""
    return settings.home / "secrets" / "master-key"


def _parse(text: str, where: str) -> bytes:
    text = text.strip()
    try:
        raw = bytes.fromhex(text) if len(text) == 2 * KEY_BYTES else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise MasterKeyError(f"the master key in {where} is neither hex nor base64: {exc}",
                             hint="`openssl rand -hex 32` makes one") from None
    if len(raw) != KEY_BYTES:
        raise MasterKeyError(f"the master key in {where} is {len(raw)} bytes; it must be {KEY_BYTES}",
                             hint="`openssl rand -hex 32` makes one")
    return raw


def _make_key_file(path: Path) -> None:
    """Write a new key to ``path`` unless one is there: whole or not at all, and the first of two writers wins.

    The key is written to a file of its own and then linked into place, which fails if ``path`` exists: a service
    starting beside another one never reads a key file that is still empty (it did, with O_EXCL on ``path``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another service made it first: everyone keeps that one
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def load_master_key(settings: Settings) -> bytes:
    """``CASEHUB_MASTER_KEY``, else ``CASEHUB_MASTER_KEY_FILE``, else ``<home>/secrets/master-key`` (made if absent)."""
    if settings.master_key is not None:
        return _parse(settings.master_key.get_secret_value(), "CASEHUB_MASTER_KEY")
    path = settings.master_key_file
    if path is None:
        path = master_key_file(settings)
        if not path.exists():
            _make_key_file(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise MasterKeyError(f"cannot read the master key file {path}: {exc}") from exc
    return _parse(text, str(path))


class MasterKey:
    """Wraps and unwraps data keys (AES-256-GCM; the keys-topic record key is the associated data, so a wrapped
    key copied under another record key does not unwrap)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise MasterKeyError(f"the master key is {len(key)} bytes; it must be {KEY_BYTES}")
        self._aead = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> MasterKey:
        return cls(load_master_key(settings))

    def wrap(self, record_key: bytes, data_key: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return _WRAP_VERSION + nonce + self._aead.encrypt(nonce, data_key, record_key)

    def unwrap(self, record_key: bytes, wrapped: bytes) -> bytes:
        if wrapped[:1] != _WRAP_VERSION or len(wrapped) < 1 + _NONCE + 16:
            raise Tampered(f"the wrapped key {record_key.decode(errors='replace')} has an unknown format")
        try:
            return self._aead.decrypt(wrapped[1:1 + _NONCE], wrapped[1 + _NONCE:], record_key)
        except InvalidTag:
            raise Tampered(f"the wrapped key {record_key.decode(errors='replace')} does not unwrap under this master "
                           "key", hint="every hub service must use the same CASEHUB_MASTER_KEY") from None
