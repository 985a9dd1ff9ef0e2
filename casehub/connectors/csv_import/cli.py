"""``casehub import FILE --as ORG``: write a spreadsheet of case reports to ORG's inbound topic, reporting every bad row."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from casehub.connectors.csv_import.ledger import UploadLedger, ledger_dir
from casehub.connectors.csv_import.upload import submit
from casehub.connectors.gateway.exceptions import UnknownOrganisation
from casehub.connectors.gateway.models import UploadResult
from casehub.connectors.gateway.producer import EventWriter
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.registry import load_registry


async def _run(settings: Settings, raw: bytes, org: str, all_or_nothing: bool) -> UploadResult:
    writer = EventWriter(settings, client_id="casehub-import")
    await writer.start()
    try:
        return await submit(
            raw, org=org, writer=writer, ledger=UploadLedger(ledger_dir(settings)), all_or_nothing=all_or_nothing
        )
    finally:
        await writer.stop()


def _human(result: UploadResult, path: Path) -> None:
    click.echo(
        f"{path.name}: {result.rows} row(s): {result.accepted} written, {result.already_submitted} already submitted, "
        f"{result.rejected} bad ({result.source}, file sha256 {result.file_sha256[:12]})"
    )
    if result.rejected and result.policy == "all_or_nothing":
        click.echo("nothing was written (--all-or-nothing): fix the rows below and import the file again")
    for bad in result.bad_rows:
        for error in bad.errors:
            click.echo(f"  row {bad.row}: {error.field or 'row'}: {error.message}")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "org", required=True, help="The partner the reports come from (their source), e.g. lao-6501.")
@click.option("--all-or-nothing", is_flag=True, help="Write nothing unless every row is valid.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def import_csv(file: Path, org: str, all_or_nothing: bool, as_json: bool) -> None:
    """Import a CSV of case reports (UTF-8, Thai or English headers, Buddhist-era dates) as ORG's case.reported events.

    Valid rows are written and bad rows listed with their row numbers (the header is row 1); with
    --all-or-nothing nothing is written unless every row is valid. Importing the same file again writes
    nothing twice. Exit status 1 when any row is bad.
    """
    settings = Settings()
    configure_logging(settings.log_level)
    if org not in load_registry(settings):
        raise UnknownOrganisation(f"{org} is not in the partner registry", hint="`casehub partners list` shows who is")
    result = asyncio.run(_run(settings, file.read_bytes(), org, all_or_nothing))
    if as_json:
        click.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=1))
    else:
        _human(result, file)
    if result.rejected:
        raise SystemExit(1)
