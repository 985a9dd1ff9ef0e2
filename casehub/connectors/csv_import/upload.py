"""A CSV upload end to end: rows → validated case.reported events → the partner's inbound topic; a full report.

Policy: by default the valid rows are written and every bad row is reported (a spreadsheet with one
typo should not hold back urgent reports); ``all_or_nothing`` writes nothing unless every row is valid.
Either way, fixing the bad rows and uploading the file again writes only the rows not yet written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from casehub.connectors.csv_import.exceptions import CsvUnreadable
from casehub.connectors.csv_import.ledger import UploadLedger
from casehub.connectors.csv_import.rows import event_id, row_event
from casehub.connectors.csv_import.sheet import Sheet, read_sheet
from casehub.connectors.gateway.models import RowError, RowFieldError, UploadedRow, UploadResult
from casehub.connectors.gateway.producer import EventWriter
from casehub.connectors.gateway.submission import Prepared, prepare_item
from casehub.core import topics
from casehub.core.logging import get_logger

log = get_logger(__name__)
_LOCATION_PARTS = ("address", "tambon", "amphoe", "province")


@dataclass
class RowOutcome:
    """One row: its event id, and either the event ready to write or what is wrong with it."""

    row: int
    event_id: str
    prepared: Prepared | None = None
    errors: list[RowFieldError] = field(default_factory=list)


def _column(sheet: Sheet, path: str) -> str:
    """How to name an event field to the person who filled the sheet: the header they wrote, and the path."""
    if path in ("location", "location.address_text"):
        written = [sheet.headers[p] for p in _LOCATION_PARTS if p in sheet.headers]
        header = "/".join(written) if written else None
    else:
        header = sheet.headers.get(path) or sheet.headers.get(path.split(".")[0])
    return f"{header} ({path})" if header and header != path else path


def plan(raw: bytes, *, org: str, schema_base: str, now: datetime | None = None) -> tuple[Sheet, list[RowOutcome]]:
    """Read and validate every row of an upload (raises CsvUnreadable for a file it cannot read at all); ``schema_base``
    is the hub's public URL, which the records' ``ce_dataschema`` starts with."""
    moment = now or datetime.now(UTC)
    sheet = read_sheet(raw)
    if not sheet.rows:
        raise CsvUnreadable("the file has a header row but no data rows")
    source = topics.event_source(org)
    outcomes: list[RowOutcome] = []
    for row in sheet.rows:
        data, cell_problems = row_event(row, org=org, file_sha256=sheet.sha256, now=moment)
        outcome = RowOutcome(row=row.number, event_id=event_id(org, sheet.sha256, row.number))
        outcome.errors = [RowFieldError(field=_column(sheet, p.field) if p.field else "", message=p.message) for p in cell_problems]
        unreadable = {p.field for p in cell_problems}
        checked = prepare_item(row.number, data, source=source, schema_base=schema_base, now=moment)
        if isinstance(checked, list):
            outcome.errors += [
                RowFieldError(field=_column(sheet, p.field), message=p.message) for p in checked if p.field not in unreadable
            ]
        elif not outcome.errors:
            outcome.prepared = checked
        outcomes.append(outcome)
    return sheet, outcomes


async def submit(
    raw: bytes,
    *,
    org: str,
    writer: EventWriter,
    ledger: UploadLedger,
    all_or_nothing: bool = False,
    now: datetime | None = None,
) -> UploadResult:
    """Validate an upload, write what the policy allows (acks=all), record it in the ledger, report every row."""
    sheet, outcomes = plan(raw, org=org, now=now, schema_base=writer.settings.public_base_url())
    bad = [o for o in outcomes if o.prepared is None]
    valid = [o for o in outcomes if o.prepared is not None]
    done = ledger.submitted(org, sheet.sha256)
    blocked = bool(bad) and all_or_nothing
    to_write = [] if blocked else [o for o in valid if o.row not in done]
    if to_write:
        await writer.write(topics.inbound(org), [o.prepared.record for o in to_write if o.prepared is not None])
        ledger.record(org, sheet.sha256, {o.row: o.event_id for o in to_write})
    log.info("csv upload", partner=org, file_sha256=sheet.sha256, rows=len(outcomes), written=len(to_write), bad=len(bad))

    def status(outcome: RowOutcome) -> str:
        if outcome.row in done:
            return "already_submitted"
        return "not_written" if blocked else "accepted"

    return UploadResult(
        source=topics.event_source(org),
        file_sha256=sheet.sha256,
        rows=len(outcomes),
        accepted=len(to_write),
        already_submitted=sum(1 for o in valid if o.row in done),
        rejected=len(bad),
        policy="all_or_nothing" if all_or_nothing else "valid_rows",
        written=bool(to_write),
        events=[UploadedRow(row=o.row, id=o.event_id, status=status(o)) for o in valid],  # type: ignore[arg-type]
        bad_rows=[RowError(row=o.row, errors=o.errors) for o in bad],
    )


def answer_status(result: UploadResult) -> int:
    """202 when the upload's valid rows are (or were already) written, 422 when nothing valid could be."""
    if result.rejected and (result.policy == "all_or_nothing" or not result.events):
        return 422
    return 202
