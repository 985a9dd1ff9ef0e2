"""The hub's data keys in memory: one per scope (a subject's pseudonym or a case), fed from ``hub.subject.keys``.

A record of ``hub.subject.keys`` is keyed ``<scope>:<key id>`` and holds the data key wrapped by the master key; a
tombstone destroys it. Key ids are random, so two workers that make a key for the same scope at once write two
records, never one over the other, and every ciphertext names the key it needs.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casehub.core import topics
from casehub.core.logging import get_logger
from casehub.vault.exceptions import Tampered
from casehub.vault.master import MasterKey

log = get_logger(__name__)
KEY_ID_BYTES = 8  # 64 random bits: no two keys of a nation's cases meet


@dataclass(slots=True)
class DataKey:
    """One data key: its id, the scope it belongs to, its cipher, and its record in the keys topic."""

    key_id: str
    scope: str
    aead: AESGCM = field(repr=False)
    wrapped: bytes = field(repr=False)

    @property
    def record_key(self) -> bytes:
        return record_key(self.scope, self.key_id)


def record_key(scope: str, key_id: str) -> bytes:
    return f"{scope}:{key_id}".encode()


def split_record_key(raw: bytes) -> tuple[str, str] | None:
    """``(scope, key id)`` of a keys-topic record key, or None if it is not one."""
    scope, sep, key_id = raw.decode(errors="replace").rpartition(":")
    return (scope, key_id) if sep and scope and key_id else None


class DataKeyStore:
    """Data keys by id and each scope's current key. ``lookup`` (optional) reads newer keys on a miss.

    A key this process made is *pending* until the committed view of the keys topic shows it (``confirm``); while
    pending, :meth:`records_for` repeats its record in every transaction that uses it, so no committed ciphertext
    ever names a key whose record was lost with an aborted transaction.
    """

    def __init__(self, master: MasterKey, *, topic: str = topics.HUB_SUBJECT_KEYS) -> None:
        self.master = master
        self.topic = topic
        self.keys: dict[str, DataKey] = {}
        self.current: dict[str, str] = {}
        self.pending: set[str] = set()
        self.destroyed: set[str] = set()
        self.lookup: Callable[[], object] | None = None
        self._lock = threading.Lock()

    def key_for(self, scope: str) -> DataKey:
        """The scope's current key; a new one (pending) if it has none."""
        key_id = self.current.get(scope)
        found = self.keys.get(key_id) if key_id is not None else None
        if found is not None:
            return found
        raw = AESGCM.generate_key(bit_length=256)
        key_id = secrets.token_hex(KEY_ID_BYTES)
        key = DataKey(key_id, scope, AESGCM(raw), self.master.wrap(record_key(scope, key_id), raw))
        with self._lock:
            self.keys[key_id] = key
            self.current[scope] = key_id
            self.pending.add(key_id)
        return key

    def get(self, key_id: str) -> DataKey | None:
        """The key ``key_id``; None when it was destroyed (or never existed). A miss reads the keys topic once."""
        found = self.keys.get(key_id)
        if found is None and key_id not in self.destroyed and self.lookup is not None:
            self.lookup()
            found = self.keys.get(key_id)
            if found is None:
                self.destroyed.add(key_id)  # read up to the end: a key a committed record names is there, or gone
        return found

    def records_for(self, keys: Iterable[DataKey]) -> list[tuple[str, bytes, bytes]]:
        """(topic, key, value) of each pending key among ``keys``: they go in the transaction that uses them."""
        seen: set[str] = set()
        out = []
        for key in keys:
            if key.key_id in self.pending and key.key_id not in seen:
                seen.add(key.key_id)
                out.append((self.topic, key.record_key, key.wrapped))
        return out

    def apply(self, raw_key: bytes | None, value: bytes | None, *, committed: bool) -> None:
        """One record of the keys topic: a key (learn it; committed: no longer pending) or a tombstone (forget it)."""
        parsed = split_record_key(raw_key or b"")
        if parsed is None:
            return
        scope, key_id = parsed
        with self._lock:
            if value is None:
                self.keys.pop(key_id, None)
                self.pending.discard(key_id)
                self.destroyed.add(key_id)
                if self.current.get(scope) == key_id:
                    del self.current[scope]
                return
            if committed:
                self.pending.discard(key_id)
            if key_id in self.keys:
                if committed and scope not in self.current:
                    self.current[scope] = key_id
                return
            try:
                aead = AESGCM(self.master.unwrap(raw_key or b"", value))
            except Tampered as exc:
                log.warning("data key not usable", record_key=(raw_key or b"").decode(errors="replace"),
                            error=exc.message)
                return
            self.keys[key_id] = DataKey(key_id, scope, aead, value)
            self.destroyed.discard(key_id)
            if committed:  # an uncommitted key may belong to an aborted transaction: decrypt with it, never reuse it
                self.current[scope] = key_id

    def keys_of(self, scopes: Iterable[str]) -> list[DataKey]:
        """Every known key of the given scopes."""
        wanted = set(scopes)
        return [key for key in self.keys.values() if key.scope in wanted]
