"""Reading spreadsheet cells: Buddhist-era dates, Thai month names, Bangkok times, citizen ids with dashes."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

BANGKOK = timezone(timedelta(hours=7), "ICT")
BUDDHIST_ERA_OFFSET = 543
# a year this large is Buddhist era (พ.ศ.): 2400 BE = 1857 CE, before any living person's birth
BUDDHIST_ERA_FROM = 2400

_THAI_MONTHS = {
    1: ("มกราคม", "ม.ค."), 2: ("กุมภาพันธ์", "ก.พ."), 3: ("มีนาคม", "มี.ค."), 4: ("เมษายน", "เม.ย."),
    5: ("พฤษภาคม", "พ.ค."), 6: ("มิถุนายน", "มิ.ย."), 7: ("กรกฎาคม", "ก.ค."), 8: ("สิงหาคม", "ส.ค."),
    9: ("กันยายน", "ก.ย."), 10: ("ตุลาคม", "ต.ค."), 11: ("พฤศจิกายน", "พ.ย."), 12: ("ธันวาคม", "ธ.ค."),
}
_MONTH_BY_NAME = {name.replace(".", ""): month for month, names in _THAI_MONTHS.items() for name in names}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_THAI_WORDS = re.compile(r"^(\d{1,2})\s*([\u0E00-\u0E7F.]+)\s*(?:พ\.ศ\.)?\s*(\d{4})$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")


class CellError(ValueError):
    """A cell that cannot be read; the message says what was expected."""


def _year(written: int) -> int:
    return written - BUDDHIST_ERA_OFFSET if written >= BUDDHIST_ERA_FROM else written


def parse_date(text: str) -> date:
    """``2560-03-09``, ``9/3/2560``, ``09-03-2017``, ``9 มี.ค. 2560``, ``9 มีนาคม 2560`` → a date (BE years converted)."""
    value = text.strip()
    if found := _ISO.match(value):
        year, month, day = (int(g) for g in found.groups())
    elif found := _DAY_FIRST.match(value):
        day, month, year = (int(g) for g in found.groups())
    elif found := _THAI_WORDS.match(value):
        month_name = found.group(2).replace(".", "")
        if month_name not in _MONTH_BY_NAME:
            raise CellError(f"{text!r}: unknown Thai month {found.group(2)!r}")
        day, month, year = int(found.group(1)), _MONTH_BY_NAME[month_name], int(found.group(3))
    else:
        raise CellError(f"{text!r} is not a date; write e.g. 9/3/2560 (day/month/พ.ศ.), 9 มี.ค. 2560 or 2017-03-09")
    try:
        return date(_year(year), month, day)
    except ValueError as exc:
        raise CellError(f"{text!r} is not a real date: {exc}") from exc


def parse_moment(text: str) -> datetime:
    """A date with an optional time (Bangkok time unless an offset is given), or an ISO 8601 timestamp."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is not None and ("T" in value or " " in value and ":" in value):
        if moment.year >= BUDDHIST_ERA_FROM:
            moment = moment.replace(year=_year(moment.year))
        return moment if moment.tzinfo else moment.replace(tzinfo=BANGKOK)
    day_part, _, time_part = value.partition(" ") if not _THAI_WORDS.match(value) else (value, "", "")
    if time_part and not _TIME.match(time_part.strip()):
        # "9 มี.ค. 2560 14:30": the date has spaces, the time is the last word
        day_part, _, time_part = value.rpartition(" ")
    when = time(0, 0)
    if time_part.strip():
        found = _TIME.match(time_part.strip())
        if not found:
            raise CellError(f"{text!r}: the time {time_part!r} is not HH:MM")
        try:
            when = time(int(found.group(1)), int(found.group(2)), int(found.group(3) or 0))
        except ValueError as exc:
            raise CellError(f"{text!r}: {exc}") from exc
    return datetime.combine(parse_date(day_part), when, tzinfo=BANGKOK)


def digits_only(text: str) -> str:
    """``1-1037-00123-45-8`` → ``1103700123458`` (spreadsheets keep the dashes of printed id cards)."""
    return re.sub(r"[\s\-]", "", text)
