"""The upload ledger: which rows of which file (by content hash) a partner already submitted.

It lets a re-upload answer "already submitted" and skip writing. Correctness does not depend on it:
row event ids are deterministic, so a row written twice (say, the ledger was lost) is dropped by the
pipeline's (source, id) dedupe. One small JSON file per (partner, file) under ``<home>/uploads``.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from casehub.core.settings import Settings


def ledger_dir(settings: Settings) -> Path:
    """Where the gateway and `casehub import` keep the ledger (the same place, so each sees the other's uploads)."""
    return settings.home / "uploads"


class UploadLedger:
    """Rows submitted per (org, file hash)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, org: str, file_sha256: str) -> Path:
        return self.directory / org / f"{file_sha256}.json"

    def submitted(self, org: str, file_sha256: str) -> dict[int, str]:
        """Row number → event id of the rows already written from this file."""
        path = self._path(org, file_sha256)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # an unreadable ledger only costs a harmless re-write
        return {int(row): str(event_id) for row, event_id in document.get("rows", {}).items()}

    def record(self, org: str, file_sha256: str, rows: dict[int, str]) -> None:
        """Add rows Kafka acknowledged."""
        if not rows:
            return
        path = self._path(org, file_sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        merged = {**self.submitted(org, file_sha256), **rows}
        document = {
            "org": org,
            "file_sha256": file_sha256,
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": {str(row): merged[row] for row in sorted(merged)},
        }
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=1)
        os.replace(temporary, path)
