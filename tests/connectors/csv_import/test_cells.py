"""Reading spreadsheet cells: Buddhist-era years, Thai month names, Thai and English labels from the contract."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from casehub.connectors.csv_import.cells import BANGKOK, CellError, parse_date, parse_moment
from casehub.connectors.csv_import.vocabulary import enum_value


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("9/3/2560", date(2017, 3, 9)),
        ("09/03/2560", date(2017, 3, 9)),
        ("2560-03-09", date(2017, 3, 9)),
        ("9 มี.ค. 2560", date(2017, 3, 9)),
        ("9 มีนาคม 2560", date(2017, 3, 9)),
        ("2017-03-09", date(2017, 3, 9)),
        ("9-3-2017", date(2017, 3, 9)),
    ],
)
def test_buddhist_era_and_common_date_forms_are_read(written: str, expected: date) -> None:
    assert parse_date(written) == expected


@pytest.mark.parametrize("written", ["31/2/2560", "yesterday", "9 ฟฟฟ 2560", "2560/13/01"])
def test_impossible_dates_are_cell_errors(written: str) -> None:
    with pytest.raises(CellError):
        parse_date(written)


def test_a_report_time_without_offset_is_bangkok_time() -> None:
    assert parse_moment("20/11/2569 14:30") == datetime(2026, 11, 20, 14, 30, tzinfo=BANGKOK)
    assert parse_moment("2026-11-20T07:30:00Z").utcoffset().total_seconds() == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("enum", "written", "symbol"),
    [
        ("casehub.IssueCategory", "ผู้สูงอายุ", "elderly"),
        ("casehub.IssueCategory", "ท้องไม่พร้อม", "teen_pregnancy"),
        ("casehub.IssueCategory", "Children Youth", "children_youth"),
        ("casehub.Channel", "สายด่วน 1300", "phone_1300"),
        ("casehub.Sex", "หญิง", "female"),
        ("casehub.RiskLevel", "ปานกลาง", "medium"),
        ("casehub.TargetGroup", "เด็ก", "child"),
        ("casehub.LawfulBasisCode", "ปฏิบัติตามกฎหมาย", "legal_duty"),
    ],
)
def test_thai_labels_come_from_the_contracts_enum_docs(enum: str, written: str, symbol: str) -> None:
    assert enum_value(enum, written) == symbol


def test_an_unknown_label_is_none() -> None:
    assert enum_value("casehub.IssueCategory", "อื่นๆ") is None
