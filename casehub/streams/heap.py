"""Keeps Python's cycle collector off the latency path: long-lived startup objects are frozen out of its scans.

A worker holds the registry, DOPA geography, schemas, faust and aiokafka: hundreds of thousands of
objects that live as long as the process. Every full (generation 2) collection walks all of them; measured
on the 2-core dev box that took 90-165 ms, ten times in two seconds under load, and each pause delayed
every event in flight (the p99 of ``bench/pipeline.py``). ``gc.freeze`` moves the objects alive at that
moment to a permanent generation the collector never scans; what the pipeline creates afterwards is
still collected as usual.
"""

from __future__ import annotations

import gc
import time

from casehub.core.logging import get_logger

log = get_logger(__name__)

# Young collections run every 700 allocations by default; each event allocates thousands of objects,
# almost all freed by reference counting, so a larger first threshold does the same work less often.
GENERATION_THRESHOLDS = (20_000, 20, 20)


def settle(stage: str) -> None:
    """Collect what is garbage now, then freeze every surviving object out of later collections."""
    started = time.perf_counter()
    collected = gc.collect()
    gc.freeze()
    gc.set_threshold(*GENERATION_THRESHOLDS)
    log.info(
        "heap settled",
        stage=stage,
        frozen=gc.get_freeze_count(),
        collected=collected,
        ms=round((time.perf_counter() - started) * 1000, 1),
    )
