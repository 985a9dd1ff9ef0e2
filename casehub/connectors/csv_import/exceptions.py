"""Errors of CSV upload that concern the whole file (row errors are reported per row, not raised)."""

from __future__ import annotations

from typing import Any

from casehub.core.errors import ContractError


class CsvUnreadable(ContractError):
    """The file is not a UTF-8 CSV with a header row this importer understands (400; nothing written)."""

    status = 400
    code = "bad_csv"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message, **context)
