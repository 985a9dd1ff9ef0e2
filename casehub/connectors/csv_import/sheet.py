"""A CSV file as the importer sees it: its content hash, which column is which field, and numbered rows."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass

from casehub.connectors.csv_import.exceptions import CsvUnreadable
from casehub.connectors.csv_import.vocabulary import COLUMNS, header_fields, normalise

# columns spreadsheets carry that are not case data (a running number)
IGNORED_HEADERS = frozenset(normalise(h) for h in ("ลำดับ", "ลำดับที่", "no", "#", "row"))


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: ``number`` counts the header as row 1, as the spreadsheet shows it; cells by field."""

    number: int
    cells: dict[str, str]
    extra_cells: int = 0


@dataclass(frozen=True, slots=True)
class Sheet:
    """A parsed upload."""

    sha256: str
    headers: dict[str, str]  # field → the header as written in the file
    rows: list[Row]


def content_hash(text: str) -> str:
    """SHA-256 of the file's text (no BOM, LF line ends): the same spreadsheet saved again hashes the same."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def decode_text(raw: bytes) -> str:
    """UTF-8 with or without a BOM; anything else is refused with a hint."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvUnreadable(
            f"the file is not UTF-8 (byte {exc.start} is not valid UTF-8)",
            hint="in Excel: Save As → CSV UTF-8 (Comma delimited); TIS-620/Windows-874 files must be converted",
        ) from exc


def _columns(header: list[str]) -> dict[int, str]:
    known = header_fields()
    by_index: dict[int, str] = {}
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for index, written in enumerate(header):
        key = normalise(written)
        if not key or key in IGNORED_HEADERS:
            continue
        field = known.get(key)
        if field is None:
            unknown.append(written.strip())
            continue
        if field in seen:
            raise CsvUnreadable(f"columns {seen[field]!r} and {written.strip()!r} both mean {field}")
        seen[field] = written.strip()
        by_index[index] = field
    if unknown:
        accepted = "; ".join(f"{field}: {' / '.join(headers[:2])}" for field, headers in COLUMNS.items())
        raise CsvUnreadable(
            f"unknown column(s): {', '.join(repr(u) for u in unknown)}",
            hint=f"rename or remove them; accepted headers (Thai or English) are {accepted}",
        )
    return by_index


def read_sheet(raw: bytes) -> Sheet:
    """Parse an upload; raises CsvUnreadable for a file that is not a CSV with a known header row."""
    text = decode_text(raw)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise CsvUnreadable(f"the file is not valid CSV: {exc}") from exc
    if not records or not any(cell.strip() for cell in records[0]):
        raise CsvUnreadable("the file has no header row", hint="the first row names the columns, e.g. เลขประจำตัวประชาชน,ชื่อ,...")
    columns = _columns(records[0])
    headers = {field: records[0][index].strip() for index, field in columns.items()}
    rows: list[Row] = []
    for offset, record in enumerate(records[1:]):
        if not any(cell.strip() for cell in record):
            continue  # a blank line (spreadsheets export trailing ones)
        cells = {field: record[index].strip() for index, field in columns.items() if index < len(record) and record[index].strip()}
        extra = sum(1 for cell in record[len(records[0]):] if cell.strip())
        rows.append(Row(number=offset + 2, cells=cells, extra_cells=extra))
    return Sheet(sha256=content_hash(text), headers=headers, rows=rows)
