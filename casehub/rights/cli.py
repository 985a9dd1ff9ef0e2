"""``casehub subject report`` and ``erase``: a person's access request (PDPA s30) and erasure by crypto-shredding (s33)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from casehub.core.logging import configure_logging
from casehub.core.settings import Settings


@click.group()
def subject() -> None:
    """A data subject's rights: who received what about a person."""


@subject.command("report")
@click.option("--citizen-id", help="The person's 13-digit Thai citizen id.")
@click.option("--other-id", help="TYPE:ID for a person without a citizen id (passport, pink_card, other).")
@click.option("--json", "as_json", is_flag=True, help="The whole report as JSON on stdout.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a page in Thai and English to hand to the person.")
def report(citizen_id: str | None, other_id: str | None, as_json: bool, html_file: Path | None) -> None:
    """Every event about the person, every disclosure (recipient, level, lawful basis, time, event type, withheld
    fields), every refusal, replay, re-drive and operator read, from hub.audit and the hub's topics.

    The report is itself written to the audit log (who asked, about which token, what was found); the raw id is
    never written there.
    """
    if (citizen_id is None) == (other_id is None):
        raise click.UsageError("give exactly one of --citizen-id or --other-id")
    from casehub.ops import operator_audit
    from casehub.rights.identity import SubjectId
    from casehub.rights.lineage import trace
    from casehub.rights.record import record_report
    from casehub.rights.render import as_dict, as_html, as_text

    settings = Settings()
    configure_logging(settings.log_level)
    person = SubjectId.citizen(settings, citizen_id) if citizen_id else SubjectId.other(settings, other_id or "")
    started = time.monotonic()
    found = trace(settings, person)
    report_id = operator_audit.new_id("sr")
    document = as_dict(found, report_id=report_id, operator=operator_audit.operator_principal(settings),
                       generated=datetime.now(UTC))
    record_report(settings, document)
    if html_file is not None:
        html_file.write_text(as_html(document), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
    else:
        click.echo(as_text(document))
        if html_file is not None:
            click.echo(f"written: {html_file}")
    click.echo(f"{sum(found.scanned.values())} record(s) scanned in {time.monotonic() - started:.1f} s; "
               f"report {report_id} recorded in hub.audit", err=True)


@subject.command("erase")
@click.option("--citizen-id", help="The person's 13-digit Thai citizen id.")
@click.option("--other-id", help="TYPE:ID for a person without a citizen id (passport, pink_card, other).")
@click.option("--reason", required=True, help="Why (the request, the legal ground): written to hub.audit.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="What was destroyed, as JSON.")
def erase(citizen_id: str | None, other_id: str | None, reason: str, yes: bool, as_json: bool) -> None:
    """Crypto-shred a person: destroy the data keys of the person and of their cases (PDPA s33).

    Their names, ids and free text in cases.events, the worker's topics and hub.dlq can never be read again; the
    hub's tools show those fields as [erased]. Partners' outbound topics keep what was lawfully delivered.
    """
    if (citizen_id is None) == (other_id is None):
        raise click.UsageError("give exactly one of --citizen-id or --other-id")
    if not reason.strip():
        raise click.UsageError("--reason must say why")
    from casehub.rights.identity import SubjectId
    from casehub.vault.erase import erase as destroy
    from casehub.vault.erase import plan_erasure

    settings = Settings()
    configure_logging(settings.log_level)
    person = SubjectId.citizen(settings, citizen_id) if citizen_id else SubjectId.other(settings, other_id or "")
    erasure = plan_erasure(settings, person, reason=reason.strip())
    if not yes:
        click.confirm(f"destroy {len(erasure.destroyed)} data key(s) of {person.kind} {person.masked} and "
                      f"{len(erasure.cases)} case(s)? This cannot be undone", abort=True, err=True)
    destroy(settings, erasure)
    if as_json:
        click.echo(json.dumps(erasure.as_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(f"erased {person.kind} {person.masked} (subject token {person.token}): "
               f"{len(erasure.destroyed)} data key(s) destroyed")
    for case_id in erasure.cases:
        click.echo(f"  case          {case_id}")
    for record_key in erasure.destroyed:
        click.echo(f"  key destroyed {record_key}")
    for where in erasure.dead_letters:
        click.echo(f"  dead letter   hub.dlq {where} (now unreadable)")
    click.echo(f"{erasure.id} recorded in hub.audit (reason: {erasure.reason}); partner outbound topics keep what "
               "was lawfully delivered")
