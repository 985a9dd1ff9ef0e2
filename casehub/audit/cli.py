"""``casehub audit``: check that the disclosure log is whole and unaltered (``verify``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from casehub.core import topics
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings


@click.group()
def audit() -> None:
    """The disclosure log hub.audit: hash-chained per partition and signed by the hub (Ed25519)."""


@audit.command("verify")
@click.option("--since", help="Check from this ISO 8601 time on; the first record read anchors each partition.")
@click.option("--topic", default=topics.HUB_AUDIT, show_default=True, help="The audit topic (or an exported copy).")
@click.option("--verify-key", "verify_key", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An Ed25519 public key (PEM) the hub published; default: those under <home>/audit/verify-keys.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def verify(since: str | None, topic: str, verify_key: tuple[Path, ...], as_json: bool) -> None:
    """Check each partition's chain and name the first record that is edited, forged, missing or inserted.

    Exit status 0 when every partition verifies, 1 when one does not.
    """
    from casehub.audit.report import verify_topic
    from casehub.connectors.replay.ranges import parse_time

    settings = Settings()
    configure_logging(settings.log_level)
    moment = parse_time(since, "--since") if since else None
    result = verify_topic(settings, topic=topic, since=moment, extra_keys=verify_key)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
    else:
        for verdict in result.partitions:
            state = "ok" if verdict.ok else "BROKEN"
            span = "-" if verdict.first_seq is None else f"seq {verdict.first_seq}..{verdict.last_seq}"
            click.echo(f"partition {verdict.partition:>3}  {state:<6}  {verdict.checked:>8} record(s)  {span}")
        first = result.first_break()
        click.echo(f"{topic}: {result.checked} record(s) verified" if first is None
                   else f"{topic}: chain broken at {first}")
    if not result.ok:
        sys.exit(1)


@audit.command("seal")
@click.option("--entries-topic", default=topics.HUB_AUDIT_ENTRIES, show_default=True, help="Where services write entries.")
@click.option("--audit-topic", default=topics.HUB_AUDIT, show_default=True, help="The sealed disclosure log.")
def seal(entries_topic: str, audit_topic: str) -> None:
    """Run the audit sealer until SIGTERM or Ctrl-C: the only writer of hub.audit.

    Chains every entry to the previous record of its partition (SHA-256) and signs it (Ed25519, the key from
    CASEHUB_AUDIT_SIGNING_KEY or made once under <home>/audit); one sealer group per cluster, exactly-once.
    """
    from casehub.streams.seal import run_sealer

    settings = Settings()
    configure_logging(settings.log_level)
    raise SystemExit(run_sealer(settings, entries_topic=entries_topic, audit_topic=audit_topic))
