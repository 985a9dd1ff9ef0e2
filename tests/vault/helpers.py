"""For tests that read what the hub sealed: a dead letter's (or intake record's) value as it was before sealing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from casehub.vault.keystore import DataKeyStore
from casehub.vault.reading import open_record


def plain_value(store: DataKeyStore) -> Callable[[Any], bytes | None]:
    """``record -> value`` opened under the hub's data keys (an unsealed record's value as it is)."""
    return lambda record: open_record(record.value, list(record.headers or []), store).value
