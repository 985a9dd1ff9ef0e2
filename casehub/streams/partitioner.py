"""The worker's producers' partitioner: Kafka's default (murmur2 of the key), each key's hash computed once.

aiokafka's murmur2 is pure Python, about 10 µs per record, and nearly every record the worker writes is keyed
by a case id: one event's outbound, canonical, state and audit records share a key, and a case's next events
do too. The partition chosen is the default partitioner's, so records land where any Kafka client puts them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from aiokafka.partitioner import murmur2

CACHED_KEYS = 100_000
"""Hashes kept (about 15 MB at most): the keys of the cases in progress."""


class KeyHashPartitioner:
    """``DefaultPartitioner`` with a bounded cache of key hashes."""

    def __init__(self, size: int = CACHED_KEYS) -> None:
        self.size = size
        self._hashes: dict[bytes, int] = {}

    def key_hash(self, key: bytes) -> int:
        """``murmur2(key) & 0x7FFFFFFF``, computed once per key while it stays among the ``size`` most recent."""
        found = self._hashes.get(key)
        if found is None:
            if len(self._hashes) >= self.size:
                del self._hashes[next(iter(self._hashes))]  # the oldest: dicts keep insertion order
            found = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return found

    def __call__(self, key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]) -> int:
        if key is None:
            return random.choice(available or all_partitions)
        return all_partitions[self.key_hash(key) % len(all_partitions)]
