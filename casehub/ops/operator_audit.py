"""Operator actions (replays, re-drives) in the disclosure log ``hub.audit``: who did what, over which range, to where."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.settings import Settings

AUDIT_CONTENT_TYPE = b"application/json"
ACTION_HEADER = "hub.audit.action"


def operator_principal(settings: Settings) -> str:
    """Who the operator is: the Kafka principal their tools connect as (a personal SCRAM user in production, set
    with CASEHUB_KAFKA_SASL_USERNAME; ``casehub-operator`` on a local cluster), never a name they type."""
    username = connection(settings, "operator").username
    return f"User:{username}" if username else "User:ANONYMOUS"


def new_id(prefix: str) -> str:
    """``rp-20261129T001500-1a2b3c`` style ids: sortable by time, unique by the random tail."""
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def action_record(action: str, action_id: str, *, operator: str, audit_topic: str = topics.HUB_AUDIT_ENTRIES,
                  **fields: Any) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    """The ``hub.audit`` record (topic, key, value, headers) of one operator action."""
    document = {"action": action, "id": action_id, "operator": operator, "at": now_text(), **fields}
    value = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    headers = [("content-type", AUDIT_CONTENT_TYPE), (ACTION_HEADER, action.encode())]
    return audit_topic, f"{action}:{action_id}".encode(), value, headers
