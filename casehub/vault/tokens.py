"""AES-GCM under a data key: a field as a self-describing text token, a whole record value as sealed bytes.

A field token is ``enc:v1:<key id>:<base64url(nonce | ciphertext)>``: Avro schemas stay as they are (the field is
still a string), the token names the key it needs, and the associated data binds it to its key and field path, so a
token moved to another field or another key does not open. A missing key means the subject was erased.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag

from casehub.vault.exceptions import Erased, Tampered
from casehub.vault.keystore import DataKey, DataKeyStore

TOKEN_PREFIX = "enc:v1:"
ERASED = "[erased]"
"""What the hub's tools show for a field whose data key was destroyed."""
_NONCE = 12
RECORD = "record"
"""The purpose of a whole sealed record value (intake records, dead letters)."""


def is_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def token_key_id(token: str) -> str:
    return token[len(TOKEN_PREFIX):].split(":", 1)[0]


def _aad(key_id: str, purpose: str) -> bytes:
    return f"casehub vault v1|{key_id}|{purpose}".encode()


def seal_text(key: DataKey, path: str, text: str) -> str:
    """``text`` (field ``path``) as a token under ``key``."""
    nonce = secrets.token_bytes(_NONCE)
    sealed = nonce + key.aead.encrypt(nonce, text.encode(), _aad(key.key_id, path))
    return f"{TOKEN_PREFIX}{key.key_id}:{base64.urlsafe_b64encode(sealed).decode().rstrip('=')}"


def open_text(store: DataKeyStore, path: str, token: str) -> str:
    """The text behind ``token`` (field ``path``). Raises Erased (key destroyed) or Tampered (does not open)."""
    key_id, sep, body = token[len(TOKEN_PREFIX):].partition(":")
    if not sep or not key_id:
        raise Tampered(f"{path}: not a vault token")
    key = store.get(key_id)
    if key is None:
        raise Erased(key_id)
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return key.aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], _aad(key_id, path)).decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise Tampered(f"{path}: the encrypted value does not open under key {key_id}") from None


def seal_bytes(key: DataKey, value: bytes, purpose: str = RECORD) -> bytes:
    """``value`` sealed under ``key`` (nonce | ciphertext); the record's header names the key."""
    nonce = secrets.token_bytes(_NONCE)
    return nonce + key.aead.encrypt(nonce, value, _aad(key.key_id, purpose))


def open_bytes(store: DataKeyStore, key_id: str, sealed: bytes, purpose: str = RECORD) -> bytes:
    """The exact bytes sealed by :func:`seal_bytes`. Raises Erased or Tampered."""
    key = store.get(key_id)
    if key is None:
        raise Erased(key_id)
    try:
        return key.aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], _aad(key_id, purpose))
    except (InvalidTag, ValueError):
        raise Tampered(f"a sealed record does not open under key {key_id}") from None
