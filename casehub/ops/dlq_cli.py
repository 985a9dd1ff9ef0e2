"""``casehub dlq``: what is stuck in hub.dlq and why (list, show) and sending it back after a fix (redrive)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.ops import dlq as dead_letters
from casehub.ops import operator_audit
from casehub.ops.read_audit import read_audit, shown
from casehub.ops.records import view
from casehub.vault.feed import reading_store


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") if ms > 0 else "-"


@click.group()
def dlq() -> None:
    """The dead-letter topic hub.dlq: records a stage could not process, unchanged, with hub.error.* headers."""


@dlq.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_command(as_json: bool) -> None:
    """Dead letters grouped by stage and reason (ids and numbers blanked), with counts and what was re-driven."""
    scan = dead_letters.scan(_settings())
    groups = dead_letters.grouped(scan.letters)
    if as_json:
        click.echo(json.dumps({"total": len(scan.letters), "pending": len(scan.pending),
                               "groups": [g.as_dict() for g in groups]}, ensure_ascii=False, indent=1))
        return
    if not groups:
        click.echo("hub.dlq is empty")
        return
    click.echo(f"{'COUNT':>6} {'REDRIVEN':>8}  {'STAGE':<9} {'EXAMPLE':<10} {'LAST SEEN':<19}  REASON")
    for group in groups:
        click.echo(f"{group.count:>6} {group.redriven:>8}  {group.stage:<9} {group.example:<10} "
                   f"{_time(group.last):<19}  {group.reason}")
    click.echo(f"{len(scan.letters)} dead letter(s), {len(scan.pending)} not re-driven")


@dlq.command("show")
@click.argument("where", metavar="PARTITION:OFFSET")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(where: str, as_json: bool) -> None:
    """One record of hub.dlq: its error context, every header, and the event decoded where possible."""
    partition, offset = dead_letters.parse_coordinates(where)
    settings = _settings()
    record = dead_letters.fetch(settings, partition, offset)
    with reading_store(settings) as store:
        seen = view(record, store)  # the value opened under its subject's data key; [erased] if destroyed
    with read_audit(settings, "dlq show") as audit:
        audit.record([shown(seen, dlq=True)])  # recorded before it is on the screen
    if as_json:
        click.echo(json.dumps(seen.as_dict(), ensure_ascii=False, indent=1))
        return
    headers = seen.headers
    click.echo(f"hub.dlq {partition}:{offset}  {seen.timestamp}  key={seen.key}")
    for name, value in headers.items():
        if name.startswith(("hub.error.", "hub.redrive.")):
            click.echo(f"  {name:<24} {value}")
    click.echo("headers:")
    for name, value in headers.items():
        if not name.startswith(("hub.error.", "hub.redrive.")):
            click.echo(f"  {name:<24} {value}")
    if seen.event is not None:
        click.echo("event:")
        click.echo(json.dumps(seen.event.to_json(), ensure_ascii=False, indent=1))
    elif seen.document is not None:
        click.echo(json.dumps(seen.document, ensure_ascii=False, indent=1))
    else:
        click.echo(f"value cannot be decoded: {seen.decode_error}")
        if not seen.erased:
            click.echo(repr((seen.raw_value or b"")[:2000]))


@dlq.command("redrive")
@click.option("--stage", "stages", multiple=True, help="Only dead letters of this stage (repeatable).")
@click.option("--reason", "reasons", multiple=True, help="Only those whose reason contains this text (repeatable).")
@click.option("--offset", "offsets", multiple=True, metavar="PARTITION:OFFSET", help="Only these records (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Every dead letter not yet re-driven (no other selection).")
@click.option("--again", is_flag=True, help="Also send records an earlier re-drive already sent.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def redrive(stages: tuple[str, ...], reasons: tuple[str, ...], offsets: tuple[str, ...], everything: bool,
            again: bool, dry_run: bool, as_json: bool) -> None:
    """Send selected dead letters back, unchanged, to the topic they failed on (after a fix).

    Each carries hub.error.attempts; one that fails again returns to hub.dlq with its attempts raised.
    Re-driven records are marked in hub.dlq, so running the same re-drive twice sends nothing twice.
    """
    if not (stages or reasons or offsets or everything):
        raise click.UsageError("select what to re-drive: --stage, --reason, --offset, or --all")
    settings = _settings()
    scan = dead_letters.scan(settings)
    chosen, already = dead_letters.select(scan.letters, stages=stages, reasons=reasons, offsets=offsets,
                                          include_redriven=again)
    criteria = {"stages": list(stages), "reasons": list(reasons), "offsets": list(offsets), "all": everything,
                "again": again}
    report = dead_letters.redrive(settings, chosen, [] if again else already,
                                  operator=operator_audit.operator_principal(settings), criteria=criteria, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        return
    verb = "would re-drive" if dry_run else "re-drove"
    for letter in report.sent:
        click.echo(f"{verb:<14} {letter.coordinates:<10} -> {letter.error.get('topic')} "
                   f"(stage {letter.stage}, attempt {letter.attempts + 1})")
    for letter in report.already:
        click.echo(f"{'skipped':<14} {letter.coordinates:<10} already re-driven by {', '.join(letter.redriven_by)}")
    click.echo(f"{report.id}: {verb} {len(report.sent)}, {len(report.already)} already re-driven"
               + ("" if dry_run or not report.sent else "; audit record written to hub.audit"))
