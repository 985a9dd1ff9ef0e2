"""casehub replay --to-pipeline with a real worker: a re-run delivers what was missing, and twice delivers nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from casehub.connectors.replay import OffsetSpec, ReplayRequest, run_replay
from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.records import header
from casehub.schemas.codec import encode_binary
from casehub.streams.keys import new_case_id
from tests.connectors.events import SCHEMA_BASE
from tests.connectors.replay.canonical import end_offsets, read_from, registry_with
from tests.kafka_helpers import create_topics, produce
from tests.streams.conftest import Hub, start_hub
from tests.streams.harness import TAMBON, free_port, partner, publish, report, with_ids
from tests.streams.test_metrics import scrape, value, wait_for


@pytest.fixture(scope="module")
def metered(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, int]]:
    port = free_port()
    running = start_hub(settings, tmp_path_factory.mktemp("replay-hub"), {"CASEHUB_WORKER_METRICS_PORT": str(port)})
    yield running, port
    running.worker.stop()


def test_replaying_cases_events_into_the_pipeline_twice_creates_no_duplicate_deliveries(
        metered: tuple[Hub, int], unique: str) -> None:
    hub, port = metered
    settings = hub.settings
    centre = topics.outbound(f"tc-{TAMBON}")
    processed = [report() for _ in range(4)]
    centre_start, events_start = end_offsets(settings, centre), end_offsets(settings, topics.CASES_EVENTS)
    publish(settings, hub.lao, processed)
    delivered = read_from(settings, centre, centre_start, timeout=60, settle=0,
                          done=lambda rs: len(with_ids(rs, {e.id for e in processed})) >= 4)
    assert len(with_ids(delivered, {e.id for e in processed})) == 4

    # an archive of canonical records: the four the pipeline wrote to cases.events, and two it never saw
    canonical = read_from(settings, topics.CASES_EVENTS, events_start, timeout=60, settle=0,
                          done=lambda rs: len(with_ids(rs, {e.id for e in processed})) >= 4)
    missed = [report() for _ in range(2)]
    archive = f"{unique}.archive"
    create_topics(settings, archive, partitions=2)
    records = [(r.key, r.value, list(r.headers)) for r in with_ids(canonical, {e.id for e in processed})]
    for event in missed:
        wire = encode_binary(event.model_copy(update={"case_id": new_case_id("B1", datetime.now(UTC))}),
                             source=topics.event_source(hub.lao), schema_base=SCHEMA_BASE)
        records.append((wire.key, wire.value, wire.headers))
    produce(settings, archive, records)
    inbound_start = end_offsets(settings, topics.inbound(hub.lao))
    hits_before = value(scrape(port), "casehub_dedupe_hits_total", kind="exact")

    first = run_replay(settings, hub.registry, ReplayRequest(from_topic=archive, target="pipeline", progress=False))
    second = run_replay(settings, hub.registry, ReplayRequest(from_topic=archive, target="pipeline", progress=False))

    assert first.selected == second.selected == 6
    assert dict(first.by_type) == {"case.reported": 6}
    # the pipeline dropped 4 + 6 replayed events as exact duplicates of (source, id)
    found = wait_for(port, lambda f: value(f, "casehub_dedupe_hits_total", kind="exact") >= hits_before + 10)
    assert value(found, "casehub_dedupe_hits_total", kind="exact") >= hits_before + 10
    everyone = {e.id for e in processed + missed}
    outbound = read_from(settings, centre, centre_start, done=lambda rs: len(with_ids(rs, everyone)) >= 6, timeout=60,
                         settle=3.0)
    ids = [header(r.headers, "ce_id").decode() for r in with_ids(outbound, everyone)]
    assert sorted(ids) == sorted(everyone)  # each exactly once

    replayed = read_from(settings, topics.inbound(hub.lao), inbound_start, expect=12, timeout=30)
    assert {header(r.headers, "hub.replay.id") for r in replayed} == {first.id.encode(), second.id.encode()}
    assert {header(r.headers, "hub.replay.topic") for r in replayed} == {archive.encode()}
    assert all(header(r.headers, "ce_source") == topics.event_source(hub.lao).encode() for r in replayed)


def test_an_inbound_topic_is_re_run_byte_for_byte_with_provenance(settings: Settings, unique: str,
                                                                  tmp_path: Path) -> None:
    org = f"ngo-{unique}"
    registry = registry_with(tmp_path / "partners.yaml", partner(org, "ngo", {"provinces": ["84"]}, "full", []))
    inbound = topics.inbound(org)
    create_topics(settings, inbound)
    sent = [report() for _ in range(5)]
    wires = [encode_binary(e, source="/partners/whoever", schema_base=SCHEMA_BASE) for e in sent]
    produce(settings, inbound, [(b"k%d" % i, w.value, w.headers) for i, w in enumerate(wires)])

    done = run_replay(settings, registry, ReplayRequest(
        from_topic=inbound, target="pipeline", progress=False,
        start=OffsetSpec.parse(["0:1"], "--start-offset"), end=OffsetSpec.parse(["0:3"], "--end-offset")))

    assert done.selected == 3
    copies = read_from(settings, inbound, {0: 5}, expect=3, settle=1.0)
    assert [r.value for r in copies] == [w.value for w in wires[1:4]]
    assert [r.key for r in copies] == [b"k1", b"k2", b"k3"]
    assert [header(r.headers, "hub.replay.offset") for r in copies] == [b"1", b"2", b"3"]
    assert all(header(r.headers, "ce_id") == w.header("ce_id") for r, w in zip(copies, wires[1:4], strict=True))
