"""Aggregates for aggregate-level partners: new cases per tambon, issue category and month; cells under 5 suppressed."""

from __future__ import annotations

import json
from datetime import datetime

SMALL_CELL = 5
"""Counts below this are published as suppressed: a small count can point at a person."""


def cell_key(tambon_code: str, issue_category: str, moment: datetime) -> bytes:
    """The cell a new case counts in: ``<tambon>|<category>|<yyyy-mm>``."""
    return f"{tambon_code}|{issue_category}|{moment:%Y-%m}".encode()


def cell_record(key: bytes, count: int) -> bytes:
    """The ``stats.aggregates`` value of a cell: its count, or ``null`` with ``suppressed: true`` under 5."""
    tambon, category, period = key.decode().split("|")
    suppressed = count < SMALL_CELL
    return json.dumps(
        {
            "tambon_code": tambon,
            "amphoe_code": tambon[:4],
            "province_code": tambon[:2],
            "issue_category": category,
            "period": period,
            "count": None if suppressed else count,
            "suppressed": suppressed,
        },
        separators=(",", ":"),
    ).encode()
