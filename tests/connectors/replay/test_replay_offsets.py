"""A replay reads without a consumer group: no live group's committed offsets move, and ranges are exact."""

from __future__ import annotations

from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from casehub.connectors.replay import OffsetSpec, ReplayRequest, parse_time, run_replay
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings
from casehub.ops.exceptions import BadSelection
from tests.connectors.replay.canonical import canonical_events, registry_with, write_canonical


def committed(settings: Settings, group: str) -> dict:
    admin = KafkaAdminClient(**connection(settings, "admin").kafka_python())
    try:
        return {tp: meta.offset for tp, meta in admin.list_group_offsets({group: None})[group].items()}
    finally:
        admin.close()


def groups(settings: Settings) -> set[str]:
    admin = KafkaAdminClient(**connection(settings, "admin").kafka_python())
    try:
        return {g["group_id"] for g in admin.list_groups()}
    finally:
        admin.close()


def test_a_replay_never_moves_a_live_groups_offsets(settings: Settings, unique: str, tmp_path: Path) -> None:
    registry = registry_with(tmp_path / "partners.yaml")
    source = f"{unique}.cases.events"
    write_canonical(settings, source, canonical_events(registry, 90, source_org="hotline-1300"), partitions=3)
    group = f"live-{unique}"
    consumer = KafkaConsumer(**connection(settings, "admin").kafka_python(), group_id=group, enable_auto_commit=False)
    consumer.commit({TopicPartition(source, p): OffsetAndMetadata(5 + p, "", -1) for p in range(3)})
    consumer.close()
    before = committed(settings, group)

    report = run_replay(settings, registry, ReplayRequest(from_topic=source, target="file", path=tmp_path / "all.jsonl",
                                                          progress=False))

    assert report.read == 90
    assert committed(settings, group) == before
    assert not [g for g in groups(settings) if report.id in g or g.startswith("casehub-replay")]


def test_offset_and_time_ranges_select_exactly_what_was_asked(settings: Settings, unique: str, tmp_path: Path) -> None:
    registry = registry_with(tmp_path / "partners.yaml")
    source = f"{unique}.cases.events"
    write_canonical(settings, source, canonical_events(registry, 40, source_org="hotline-1300"), partitions=2)

    def replay(**options):  # type: ignore[no-untyped-def]
        return run_replay(settings, registry, ReplayRequest(from_topic=source, target="file", dry_run=True,
                                                            path=tmp_path / "x.jsonl", progress=False, **options))

    every = replay()
    sizes = {p: span.size for p, span in every.spans.items()}
    assert sum(sizes.values()) == 40
    one = replay(start=OffsetSpec.parse(["0:2"], "--start-offset"), end=OffsetSpec.parse(["0:6"], "--end-offset"))
    # records spread over the partitions by case id: expect what each partition really holds
    assert one.read == max(0, min(sizes[0], 7) - 2) and set(one.spans) == {0}
    both = replay(start=OffsetSpec.parse(["3"], "--start-offset"))
    assert both.read == sum(max(0, n - 3) for n in sizes.values())
    future = replay(since=parse_time("2099-01-01T00:00:00Z", "--since"))
    assert future.read == 0
    past = replay(since=parse_time("2000-01-01T07:00:00+07:00", "--since"), until=parse_time("2099-01-01", "--until"))
    assert past.read == 40
    for bad in ({"start": OffsetSpec.parse(["9:0"], "--start-offset")},
                {"since": parse_time("2026-01-02", "--since"), "until": parse_time("2026-01-01", "--until")},
                {"since": parse_time("2026-01-01", "--since"), "start": OffsetSpec.parse(["1"], "--start-offset")}):
        try:
            replay(**bad)
        except BadSelection:
            continue
        raise AssertionError(f"{bad} was accepted")
