"""The stream worker's side of the vault: seal what it writes, open its intake records, follow the keys topic."""

from __future__ import annotations

import asyncio
import time

from casehub.core.errors import TransportError
from casehub.core.logging import get_logger
from casehub.core.settings import Settings
from casehub.vault.exceptions import Erased, MissingKeysTopic, VaultError
from casehub.vault.feed import KeyFeed
from casehub.vault.keystore import DataKey, DataKeyStore
from casehub.vault.records import seal_headers, sealed_value
from casehub.vault.tokens import open_bytes

log = get_logger(__name__)
INTAKE_KEY_HEADER = "hub.origin.vault-key"
"""On an intake record: the data key its value is sealed under (a ``hub.origin.*`` header: never the partner's)."""
REFRESH_SECONDS = 2.0
"""How often the worker reads new keys and tombstones (an erased subject's key leaves its memory this fast)."""
LOOKUP_WAIT_SECONDS = 120.0
"""How long an intake record waits for the keys topic to answer (a broker's loss and a leader's election take less)."""
KeyRecord = tuple[str, bytes, bytes]


class WorkerVault:
    """Seals intake records and dead letters; opens intake records (a key another worker made is read on a miss)."""

    def __init__(self, settings: Settings, store: DataKeyStore) -> None:
        self.store = store
        # committed view: confirms this worker's pending keys, learns each scope's current key and the tombstones
        self.committed = KeyFeed(settings, store, service="worker", committed=True, client_id="casehub-vault-keys")
        # a record's key is committed before or with it; read_uncommitted never waits behind an open transaction
        # (this worker's own, held open until the record being processed is done, included)
        self.lookup = KeyFeed(settings, store, service="worker", committed=False, client_id="casehub-vault-lookup")

    def seal_record(self, scope: str, value: bytes | None) -> tuple[bytes | None, DataKey, list[KeyRecord]]:
        """``value`` sealed under ``scope``'s key, the key, and the key's record while it is pending."""
        key = self.store.key_for(scope)
        return sealed_value(key, value), key, self.store.records_for([key])

    def dead_letter(self, scope: str, value: bytes | None,
                    headers: list[tuple[str, bytes]]) -> tuple[bytes | None, list[tuple[str, bytes]], list[KeyRecord]]:
        """A dead letter's value sealed, its headers naming the key, and the key's record while it is pending."""
        sealed, key, records = self.seal_record(scope, value)
        return sealed, [*headers, *seal_headers(key)], records

    async def open_intake(self, key_id: str, value: bytes | None) -> bytes | None:
        """The inbound bytes an intake record carries. Raises Erased (its subject was erased meanwhile) or Tampered."""
        if value is None:
            return None
        if self.store.keys.get(key_id) is None and key_id not in self.store.destroyed:
            await self._look_up()
            if self.store.keys.get(key_id) is None:
                self.store.destroyed.add(key_id)
        if self.store.keys.get(key_id) is None:
            raise Erased(key_id)
        return open_bytes(self.store, key_id, value)

    async def _look_up(self) -> None:
        """Read the keys topic to its end, waiting (bounded) while the cluster cannot answer: the record waits, as
        its outputs would for a producer, rather than the worker crashing during a broker's loss."""
        deadline = time.monotonic() + LOOKUP_WAIT_SECONDS
        pause = 1.0
        while True:
            try:
                await asyncio.to_thread(self.lookup.catch_up)
                return
            except MissingKeysTopic:
                raise
            except (TransportError, VaultError) as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("keys topic not readable yet; the record waits", error=str(exc), retry_in_seconds=pause)
                await asyncio.to_thread(self.lookup.close)  # a fresh connection next time
            await asyncio.sleep(pause)
            pause = min(pause * 2, 8.0)

    async def refresh(self) -> None:
        """Read the keys topic's new records (the worker's timer)."""
        try:
            await asyncio.to_thread(self.committed.catch_up)
        except Exception as exc:  # noqa: BLE001 - a cluster hiccup: pending keys stay pending, the next tick retries
            log.warning("keys topic not read", error=str(exc))

    def close(self) -> None:
        self.committed.close()
        self.lookup.close()
