"""The pipeline's stages alone, in this process, with no Kafka: the most events/s one Python worker could reach.

    .venv/bin/python bench/pure_stages.py --cases 500           # the simulator's full-lifecycle mix

``bench/pipeline.py`` runs it on the same records as its throughput phase, so the printed ceiling
bounds what the pipeline can reach: the pipeline cannot beat its own stages. Tables are plain dicts
here (the worker's are RocksDB), so this is an upper bound. It also counts the records each event
makes the worker write (outputs, the intake hop, table changelogs, aggregate cells), per topic kind.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.streams import aggregates
from casehub.streams.core import CoreProcessor, Output, StagedTable
from casehub.streams.dlq import Origin
from casehub.streams.exceptions import StageRejected
from casehub.streams.keys import partition_key
from casehub.streams.shard import shard_of_record
from casehub.streams.validate import accept

TABLES = ("seen", "subjects", "cases", "deadlines", "expiring")
Inbound = tuple[str, bytes | None, bytes | None, Any]
"""topic, key, value, headers"""


@dataclass
class StageRun:
    """What one run of the stages did: seconds, and the records the worker would write, by kind."""

    seconds: float = 0.0
    events: int = 0
    written: Counter[str] = field(default_factory=Counter)
    outputs: list[list[Output]] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(self.written.values())

    def per_event(self) -> float:
        return self.records / self.events if self.events else float("nan")


def processor(settings: Settings, registry: Any) -> CoreProcessor:
    """A CoreProcessor configured as the worker configures it."""
    return CoreProcessor.from_settings(settings, registry, cells_topic="cells")


def kind(topic: str) -> str:
    return "partner.outbound" if topic.startswith("partner.") else topic


def run_stages(core: CoreProcessor, records: Sequence[Inbound], *, keep: bool = False) -> StageRun:
    """Both hops on every record, as the worker runs them (intake's shard, then decode, validate and process once)."""
    tables: dict[str, dict[bytes, bytes]] = {name: {} for name in TABLES}
    cells: dict[bytes, int] = {}
    run = StageRun(events=len(records))
    written = run.written
    started = time.perf_counter()
    for offset, (topic, key, value, headers) in enumerate(records):
        origin = Origin(topic=topic, partition=0, offset=offset, key=key, value=value, headers=tuple(headers))
        shard = shard_of_record(origin, org=topics.org_of_inbound(topic), pseudonym_key=core.pseudonym_key,
                                pseudonyms=core.pseudonyms)
        written["intake"] += 1
        now = datetime.now(UTC)
        staged = {name: StagedTable(table) for name, table in tables.items()}
        try:
            accepted = accept(origin, now=now, pseudonyms=core.pseudonyms)
            if partition_key(core.shard_for(accepted.event)) != partition_key(shard):
                written["intake (forwarded)"] += 1
            outputs = core.process_accepted(accepted, now=now, **staged)
        except StageRejected as exc:
            written[topics.HUB_DLQ] += 1
            for refusal in exc.records:  # what the refusal writes with its dead letter (an audit record)
                written[kind(refusal[0])] += 1
            continue
        for table_name, table in staged.items():
            written[f"changelog {table_name}"] += len(table.writes)
            table.apply()
        for out in outputs:
            written[kind(out.topic)] += 1
            if out.topic == core.cells_topic:  # the aggregates hop: the count's changelog, maybe a stats record
                count = cells[out.key or b""] = cells.get(out.key or b"", 0) + 1
                written["changelog cells"] += 1
                written[topics.STATS_AGGREGATES] += count == 1 or count >= aggregates.SMALL_CELL
        if keep:
            run.outputs.append(outputs)
    run.seconds = time.perf_counter() - started
    return run


def describe(run: StageRun) -> str:
    """events/s and records per event, with the records by kind."""
    parts = ", ".join(f"{name} {count / run.events:.2f}" for name, count in sorted(run.written.items()))
    return (f"{run.events / run.seconds:,.0f} events/s ({run.seconds / run.events * 1e6:,.0f} µs/event), "
            f"{run.per_event():.2f} records per event: {parts}")


def main() -> None:
    import logging

    import simulator_mix  # run from the bench folder or with it on sys.path
    import structlog

    from casehub.registry import load_registry

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=500, help="simulated case lifecycles")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    settings = Settings()
    registry = load_registry(settings)
    core = processor(settings, registry)
    linked = simulator_mix.linked(core, simulator_mix.mix(registry, args.cases, seed=args.seed))
    with simulator_mix.fixed_case_ids():
        cpu = time.process_time()
        run = run_stages(core, linked)
        cpu = time.process_time() - cpu
    print(f"pure stages (simulator mix, {args.cases} cases): {describe(run)}; {cpu / run.events * 1e6:,.0f} µs CPU/event")


if __name__ == "__main__":
    main()
