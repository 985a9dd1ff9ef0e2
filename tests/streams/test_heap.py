"""The worker's heap settling: garbage collected first, survivors frozen out of later cycle collections."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from casehub.streams import heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_collects_garbage_cycles_and_freezes_survivors(restore_gc: None) -> None:
    garbage_a, garbage_b = Node(), Node()
    garbage_a.other, garbage_b.other = garbage_b, garbage_a
    garbage = weakref.ref(garbage_a)
    del garbage_a, garbage_b
    survivor = Node()
    survivor.other = survivor

    heap.settle("test")

    assert garbage() is None  # collected, not frozen forever
    assert gc.get_freeze_count() > 0
    assert not any(obj is survivor for obj in gc.get_objects())  # frozen objects are no longer scanned
    assert gc.get_threshold() == heap.GENERATION_THRESHOLDS
