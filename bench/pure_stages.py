"""The pipeline's stages alone, in this process, with no Kafka: the most events/s one Python worker could reach.

    .venv/bin/python bench/pure_stages.py --events 3000

``bench/pipeline.py`` runs it on the same records as its throughput phase, so the printed ceiling
bounds the pipeline/raw ratio measured in the same run: the pipeline cannot beat its own stages.
Tables are plain dicts here (the worker's are RocksDB), so this is an upper bound.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from casehub.core.settings import Settings
from casehub.streams.core import CoreProcessor, StagedTable
from casehub.streams.dlq import Origin
from casehub.streams.exceptions import StageRejected
from casehub.streams.validate import accept

TABLES = ("seen", "subjects", "cases", "deadlines", "expiring")


def processor(settings: Settings, registry: Any) -> CoreProcessor:
    """A CoreProcessor configured as the worker configures it."""
    return CoreProcessor.from_settings(settings, registry, cells_topic="cells")


def run_stages(core: CoreProcessor, topic: str, records: Sequence[tuple[bytes | None, bytes, Any]]) -> tuple[float, int]:
    """Validate, dedupe, enrich, route and project every record as the two hops do; returns (seconds, outputs)."""
    tables: dict[str, dict[bytes, bytes]] = {name: {} for name in TABLES}
    outputs = 0
    started = time.perf_counter()
    for offset, (key, value, headers) in enumerate(records):
        origin = Origin(topic=topic, partition=0, offset=offset, key=key, value=value, headers=tuple(headers))
        try:
            core.shard_for(accept(origin, now=datetime.now(UTC)).event)
            staged = {name: StagedTable(table) for name, table in tables.items()}
            outputs += len(core.process(origin, now=datetime.now(UTC), **staged))
        except StageRejected:
            outputs += 1  # the dead letter
            continue
        for table in staged.values():
            table.apply()
    return time.perf_counter() - started, outputs


def main() -> None:
    import pipeline  # the bench's registry and record mix (run from the bench folder or with it on sys.path)

    from casehub.registry import parse_registry

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    registry = parse_registry(pipeline.registry_text("pure"), source="bench")
    records, _ = pipeline.Mix().records(args.events, first_subject=0)
    seconds, outputs = run_stages(processor(Settings(), registry), "partner.lao-pure.inbound", records)
    print(f"pure stages: {len(records) / seconds:,.0f} events/s, {outputs / len(records):.1f} outputs per event")


if __name__ == "__main__":
    main()
