"""``casehub replay``: send a topic range to a partner (re-projected), back through the pipeline, or to a file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from casehub.connectors.replay.ranges import OffsetSpec, parse_time
from casehub.connectors.replay.replay import ReplayReport, ReplayRequest, run_replay
from casehub.connectors.replay.selection import Filters
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.ops.exceptions import BadSelection
from casehub.registry import load_registry


@click.command()
@click.option("--from-topic", "from_topic", required=True, help="Topic to read (e.g. cases.events, partner.<org>.inbound).")
@click.option("--since", help="First record time, ISO 8601 (offsets_for_times); no offset = UTC.")
@click.option("--until", help="Stop before this time, ISO 8601.")
@click.option("--start-offset", multiple=True, help="OFFSET for every partition, or PARTITION:OFFSET (repeatable).")
@click.option("--end-offset", multiple=True, help="Last offset to read, inclusive: OFFSET or PARTITION:OFFSET (repeatable).")
@click.option("--partition", "partitions", multiple=True, type=int, help="Read only this partition (repeatable).")
@click.option("--case-id", "case_ids", multiple=True, help="Only this case (repeatable).")
@click.option("--event-type", "event_types", multiple=True, help="Only this event type (repeatable).")
@click.option("--tambon", "tambons", multiple=True, help="Only events in this DOPA tambon code (repeatable).")
@click.option("--province", "provinces", multiple=True, help="Only events in this DOPA province code (repeatable).")
@click.option("--to-partner", "to_partner", help="Deliver to partner.<ORG>.outbound at the partner's current "
              "subscription and disclosure level (written to hub.audit like any delivery).")
@click.option("--to-pipeline", is_flag=True, help="Back into partner.<org>.inbound for a re-run; the pipeline's "
              "dedupe on (source, id) makes a repeated re-run deliver nothing twice.")
@click.option("--to-file", "to_file", type=click.Path(dir_okay=False, path_type=Path), help="JSON lines file.")
@click.option("--dry-run", is_flag=True, help="Count what would go, per event type; write nothing.")
@click.option("--rate", type=float, help="At most this many records per second.")
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
def replay(from_topic: str, since: str | None, until: str | None, start_offset: tuple[str, ...],
           end_offset: tuple[str, ...], partitions: tuple[int, ...], case_ids: tuple[str, ...],
           event_types: tuple[str, ...], tambons: tuple[str, ...], provinces: tuple[str, ...], to_partner: str | None,
           to_pipeline: bool, to_file: Path | None, dry_run: bool, rate: float | None,
           no_progress: bool, as_json: bool) -> None:
    """Replay a topic range to ONE target: --to-partner ORG, --to-pipeline or --to-file PATH.

    Reads without a consumer group (assign + seek), so no live group's offsets move. Every replayed record
    carries hub.replay.id/topic/partition/offset headers; each replay writes one hub.audit record.
    """
    chosen = [name for name, on in (("partner", to_partner), ("pipeline", to_pipeline), ("file", to_file)) if on]
    if len(chosen) != 1:
        raise BadSelection("choose exactly one target: --to-partner ORG, --to-pipeline or --to-file PATH")
    if rate is not None and rate <= 0:
        raise BadSelection("--rate must be positive")
    settings = Settings()
    configure_logging(settings.log_level)
    request = ReplayRequest(
        from_topic=from_topic, target=chosen[0], partner=to_partner, path=to_file,  # type: ignore[arg-type]
        since=parse_time(since, "--since") if since else None,
        until=parse_time(until, "--until") if until else None,
        start=OffsetSpec.parse(start_offset, "--start-offset"), end=OffsetSpec.parse(end_offset, "--end-offset"),
        partitions=partitions,
        filters=Filters(frozenset(event_types), frozenset(case_ids), frozenset(tambons), frozenset(provinces)),
        dry_run=dry_run, rate=rate, progress=not no_progress,
    )
    report = run_replay(settings, load_registry(settings), request)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        _human(report)


def _human(report: ReplayReport) -> None:
    verb = "would replay" if report.dry_run else "replayed"
    target = report.target
    where = target.get("topic") or target.get("path") or target.get("topics")
    click.echo(f"replay {report.id}: {report.from_topic} -> {target['kind']} ({where})")
    for partition, (start, end) in report.ranges().items():
        click.echo(f"  partition {partition}: offsets {start}..{end - 1} ({max(0, end - start)} records)")
    click.echo(f"read {report.read}, {verb} {report.selected}" + ("" if report.dry_run else f", wrote {report.written} records"))
    for event_type, count in sorted(report.by_type.items()):
        click.echo(f"  {event_type:<22} {count}")
    for reason, count in sorted(report.skipped.items()):
        click.echo(f"  skipped: {reason}: {count}")
    rate = f", {report.read / report.seconds:,.0f} records/s" if report.seconds else ""
    click.echo(f"{report.seconds:.1f} s{rate}" + ("; dry run: nothing written" if report.dry_run else ""))
