"""Whole record values sealed under a data key (intake records, dead letters): a header names the key."""

from __future__ import annotations

from collections.abc import Sequence

from casehub.vault.keystore import DataKey, DataKeyStore
from casehub.vault.tokens import open_bytes, seal_bytes

KEY_HEADER = "hub.vault.key"
"""On a sealed dead letter: the id of the data key its value is sealed under."""
SCOPE_HEADER = "hub.vault.scope"
"""On a sealed dead letter: the scope of that key (a subject token or a case id; never a raw id)."""
VAULT_HEADERS = (KEY_HEADER, SCOPE_HEADER)


def sealed_value(key: DataKey, value: bytes | None) -> bytes | None:
    """``value`` sealed under ``key`` (None stays None: a tombstone holds nothing)."""
    return None if value is None else seal_bytes(key, value)


def seal_headers(key: DataKey) -> list[tuple[str, bytes]]:
    return [(KEY_HEADER, key.key_id.encode()), (SCOPE_HEADER, key.scope.encode())]


def key_id_of(headers: Sequence[tuple[str, bytes]] | None, name: str = KEY_HEADER) -> str | None:
    found = next((v for k, v in (headers or ()) if k == name), None)
    return found.decode(errors="replace") if found else None


def without_vault_headers(headers: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in headers if k not in VAULT_HEADERS]


def opened_value(store: DataKeyStore, key_id: str, value: bytes | None) -> bytes | None:
    """The exact bytes that were sealed. Raises Erased (key destroyed) or Tampered."""
    return None if value is None else open_bytes(store, key_id, value)
