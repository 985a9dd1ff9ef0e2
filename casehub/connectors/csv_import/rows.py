"""One spreadsheet row → the data of a case.reported event, with problems named by the column the LAO wrote."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from casehub.connectors.csv_import.cells import CellError, digits_only, parse_date, parse_moment
from casehub.connectors.csv_import.sheet import Row
from casehub.connectors.csv_import.vocabulary import ENUM_FIELDS, enum_value, examples

CHILD_UNDER = 18
ELDERLY_FROM = 60
ADDRESS_PARTS = (("address", ""), ("tambon", "ต."), ("amphoe", "อ."), ("province", "จ."))
# how a cell may already be marked; the marker is written once, in its short form
WRITTEN_MARKERS = {"tambon": ("ตำบล", "ต.", "แขวง"), "amphoe": ("อำเภอ", "อ.", "เขต"), "province": ("จังหวัด", "จ.")}
# what an LAO's own sheet may leave out: it is the channel, its staff are the reporters, it acts under public duty
LAO_DEFAULTS = {"channel": "lao", "reporter_type": "official"}
DEFAULT_BASIS = "public_task"


@dataclass(frozen=True, slots=True)
class CellProblem:
    """A cell (``field`` is the row field it maps to) that could not be read."""

    field: str
    message: str


def event_id(org: str, file_sha256: str, row: int) -> str:
    """The event id of a row: the same file from the same partner always gives the same ids."""
    digest = hashlib.sha256(f"{org}\x1f{file_sha256}\x1f{row}".encode()).hexdigest()
    return f"csv-{digest[:32]}"


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _target_group(birth: date | None, on: date) -> str:
    """Without a กลุ่มเป้าหมาย column: child under 18, elderly from 60 (as the pipeline's enrich stage), else general."""
    if birth is None:
        return "general"
    age = _age(birth, on)
    return "child" if age < CHILD_UNDER else "elderly" if age >= ELDERLY_FROM else "general"


def _unmarked(part: str, text: str) -> str:
    for marker in WRITTEN_MARKERS[part]:
        if text.startswith(marker):
            return text[len(marker):].strip()
    return text


def _address(cells: dict[str, str]) -> str | None:
    written = [cells[part] for part, _ in ADDRESS_PARTS if part in cells]
    if not written:
        return None
    thai = any("\u0e00" <= ch <= "\u0e7f" for text in written for ch in text)
    if thai:
        # ตำบล/อำเภอ/จังหวัด columns hold bare names; the geography resolver reads them by their markers
        pieces = [cells.get("address", "")]
        pieces += [f"{marker}{_unmarked(part, cells[part])}" for part, marker in ADDRESS_PARTS[1:] if part in cells]
        return " ".join(p for p in pieces if p)
    english = [("address", ""), ("tambon", " Subdistrict"), ("amphoe", " District"), ("province", "")]
    return ", ".join(cells[part] + suffix for part, suffix in english if part in cells)


def row_event(row: Row, *, org: str, file_sha256: str, now: datetime) -> tuple[dict[str, Any], list[CellProblem]]:
    """The event data of ``row`` and the cells that could not be read (left out of the data)."""
    cells = dict(row.cells)
    problems: list[CellProblem] = []
    if row.extra_cells:
        problems.append(CellProblem("", f"{row.extra_cells} cell(s) beyond the last column; a comma inside a value needs quotes"))
    if org.startswith("lao-"):
        for field, value in LAO_DEFAULTS.items():
            cells.setdefault(field, value)
    values: dict[str, Any] = {}
    for field, text in cells.items():
        if field in ENUM_FIELDS:
            symbol = enum_value(ENUM_FIELDS[field], text)
            if symbol is None:
                problems.append(CellProblem(field, f"{text!r} is not one of: {examples(ENUM_FIELDS[field])}"))
            else:
                values[field] = symbol
        elif field == "subject.birth_date":
            try:
                values[field] = parse_date(text)
            except CellError as exc:
                problems.append(CellProblem(field, str(exc)))
        elif field == "occurred_at":
            try:
                values[field] = parse_moment(text)
            except CellError as exc:
                problems.append(CellProblem(field, str(exc)))
        elif field in ("subject.citizen_id", "subject.phone", "reporter_phone"):
            values[field] = digits_only(text)
        elif field == "subject.nationality":
            values[field] = text.upper()
        else:
            values[field] = text
    birth: date | None = values.get("subject.birth_date")
    occurred: datetime = values.get("occurred_at", now)
    subject = {name.split(".", 1)[1]: value for name, value in values.items() if name.startswith("subject.")}
    if "subject.birth_date" in values:
        subject["birth_date"] = birth.isoformat() if birth else None
    data: dict[str, Any] = {
        "id": event_id(org, file_sha256, row.number),
        "type": "case.reported",
        "occurred_at": occurred.isoformat(),
        "issue_category": values.get("issue_category"),
        "target_group": values.get("target_group") or _target_group(birth, occurred.date()),
        "location": {
            "tambon_code": values.get("location.tambon_code"),
            "address_text": _address(cells),
            "postal_code": values.get("location.postal_code"),
        },
        "risk_level": values.get("risk_level"),
        "lawful_basis": {"basis": values.get("lawful_basis.basis", DEFAULT_BASIS), "reference": values.get("lawful_basis.reference")},
        "channel": values.get("channel"),
        "reporter_type": values.get("reporter_type"),
        "subject": subject,
        "summary": values.get("summary"),
        "reporter_phone": values.get("reporter_phone"),
        "partner_ref": values.get("partner_ref") or f"csv {file_sha256[:12]} row {row.number}",
        "language": values.get("language"),
    }
    # a missing required value stays out, so validation names it "is required" (issue_category, channel, ...)
    return {k: v for k, v in data.items() if v is not None}, problems
