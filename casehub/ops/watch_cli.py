"""``casehub tail``, ``casehub lag`` and ``casehub status``: watching the hub from a terminal."""

from __future__ import annotations

import json
import sys

import click

from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.ops import status as hub_status
from casehub.ops.lag import lag as group_lag
from casehub.ops.read_audit import read_audit, shown
from casehub.ops.tail import TailFilter, follow_batches


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


@click.command()
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the first retained record (default: new records only).")
@click.option("--max", "max_records", type=int, help="Stop after showing this many records.")
@click.option("--idle-timeout", type=float, help="Stop when nothing arrives for this many seconds.")
@click.option("--event-type", "event_types", multiple=True, help="Only this event type (repeatable).")
@click.option("--case-id", "case_ids", multiple=True, help="Only this case (repeatable).")
@click.option("--partner", "partners", multiple=True,
              help="Only records concerning this org: source, recipient, addressee or responsible unit (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
def tail(topic: str, from_beginning: bool, max_records: int | None, idle_timeout: float | None,
         event_types: tuple[str, ...], case_ids: tuple[str, ...], partners: tuple[str, ...], as_json: bool) -> None:
    """Show TOPIC's records decoded (CloudEvents, audit/state JSON), places in Thai; Ctrl-C stops.

    Reads without a consumer group: no offsets are committed anywhere.
    """
    where = TailFilter(frozenset(event_types), frozenset(case_ids), frozenset(partners))
    settings = _settings()
    with read_audit(settings, "tail", source_topic=topic) as audit:
        try:
            for batch in follow_batches(settings, topic, from_beginning=from_beginning, max_records=max_records,
                                        idle_timeout=idle_timeout, where=where):
                audit.record([shown(seen) for seen in batch])  # recorded before it is on the screen
                for seen in batch:
                    click.echo(json.dumps(seen.as_dict(), ensure_ascii=False) if as_json else seen.summary())
                sys.stdout.flush()
        except KeyboardInterrupt:
            return


@click.command()
@click.option("--group", "groups", multiple=True, help="Only this consumer group (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def lag(groups: tuple[str, ...], as_json: bool) -> None:
    """Per consumer group and partition: committed offset, end offset and lag.

    On transactional topics a caught-up group shows a lag of 1: the end includes the last commit marker.
    """
    rows = group_lag(_settings(), groups)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("no committed offsets" + (f" for {', '.join(groups)}" if groups else ""))
        return
    gw = max(len(r.group) for r in rows)
    tw = max(len(r.topic) for r in rows)
    click.echo(f"{'GROUP':<{gw}}  {'TOPIC':<{tw}}  {'PART':>4} {'COMMITTED':>10} {'END':>10} {'LAG':>8}")
    for r in rows:
        click.echo(f"{r.group:<{gw}}  {r.topic:<{tw}}  {r.partition:>4} {r.committed:>10} {r.end:>10} {r.lag:>8}")
    totals: dict[str, int] = {}
    for r in rows:
        totals[r.group] = totals.get(r.group, 0) + r.lag
    for group, total in totals.items():
        click.echo(f"{group}: total lag {total}")


@click.command()
@click.option("--endpoint", "endpoints", multiple=True, metavar="URL",
              help="Also check a worker's HTTP endpoint, e.g. http://127.0.0.1:9466/metrics (repeatable).")
@click.option("--no-dlq", is_flag=True, help="Skip reading hub.dlq (it is read whole to count pending records).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(endpoints: tuple[str, ...], no_dlq: bool, as_json: bool) -> None:
    """Broker, topics, dead letters and workers; exit status 1 when something is wrong."""
    found = hub_status.collect(_settings(), endpoints=endpoints, scan_dlq=not no_dlq)
    if as_json:
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=1))
    else:
        broker = found.broker
        if broker.get("reachable"):
            click.echo(f"broker   up at {found.bootstrap}: {broker['brokers']} broker(s), controller {broker['controller']}")
        else:
            click.echo(f"broker   UNREACHABLE at {found.bootstrap}: {broker.get('error')}")
        if found.topics:
            t = found.topics
            click.echo(f"topics   {t['total']} ({t['inbound']} inbound, {t['outbound']} outbound)"
                       + (f"; missing: {', '.join(t['hub_missing'])}" if t["hub_missing"] else ""))
        if found.dlq:
            click.echo(f"dlq      {found.dlq['dead_letters']} dead letter(s), {found.dlq['pending']} not re-driven")
        for worker in found.workers:
            click.echo(f"worker   {worker['group']}: {worker['state']}, {worker['members']} member(s), lag {worker['lag']}"
                       + (f" [{', '.join(worker['clients'])}]" if worker["clients"] else ""))
        for endpoint in found.endpoints:
            click.echo(f"endpoint {endpoint['url']}: " + ("up" if endpoint["up"] else f"DOWN ({endpoint.get('error')})"))
        for problem in found.problems:
            click.echo(f"problem  {problem}")
        click.echo("healthy" if found.healthy else "NOT healthy")
    if not found.healthy:
        raise SystemExit(1)
