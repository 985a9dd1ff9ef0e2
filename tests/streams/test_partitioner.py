"""The worker's partitioner puts every keyed record where Kafka's default partitioner does."""

from __future__ import annotations

import random
from datetime import datetime

from aiokafka.partitioner import DefaultPartitioner

from casehub.streams.keys import new_case_id, partition_key
from casehub.streams.partitioner import KeyHashPartitioner


def test_keyed_records_land_in_the_default_partitioners_partition_also_once_the_cache_is_full() -> None:
    rng = random.Random(5)
    ours, default = KeyHashPartitioner(size=50), DefaultPartitioner()
    keys = [rng.randbytes(rng.randint(0, 40)) for _ in range(300)] + [partition_key(f"{n:02X}") for n in range(256)]
    keys += [new_case_id(f"{n:02X}", datetime(2026, 12, 1)).encode() for n in range(100)]
    for key in keys * 2:
        for count in (1, 2, 3, 6, 12):
            partitions = list(range(count))
            assert ours(key, partitions, partitions) == default(key, partitions, partitions)
    assert len(ours._hashes) == 50


def test_a_record_without_a_key_goes_to_an_available_partition() -> None:
    assert KeyHashPartitioner()(None, [0, 1, 2], [2]) == 2
    assert KeyHashPartitioner()(None, [0, 1, 2], []) in (0, 1, 2)
