"""Who may read a case through GET /v1/cases/{id}, and the ``hub.audit`` record written before each answered read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from casehub.connectors.gateway.models import CaseView
from casehub.connectors.gateway.producer import EventWriter
from casehub.core import topics
from casehub.core.logging import get_logger
from casehub.registry import Partner
from casehub.schemas.codec import WireRecord
from casehub.streams import audit, route
from casehub.streams.state import CaseState

log = get_logger(__name__)
READ_CHANNEL = "gateway GET /v1/cases/{case_id}"


def may_read(partner: Partner, case: CaseState, *, registry: Any) -> bool:
    """Whether ``partner`` may read ``case``: exactly when the pipeline would deliver the case's events to it."""
    allowed = route.receives_case(partner, case, registry=registry)
    if not allowed:
        log.info("case read refused", partner=partner.id, case_id=case.case_id)
    return allowed


async def record_read(writer: EventWriter, case: CaseState, partner: Partner, view: CaseView) -> None:
    """Write the read to ``hub.audit`` (acks=all) before the answer leaves: no disclosure without its record.

    A failed write raises WriteFailed (503) and nothing is disclosed.
    """
    value = audit.case_read_record(
        case,
        recipient=partner.id,
        disclosure=partner.disclosure.value,
        withheld_fields=list(view.withheld or ()),
        channel=READ_CHANNEL,
        now=datetime.now(UTC),
    )
    headers = [("content-type", audit.AUDIT_CONTENT_TYPE)]
    await writer.write(topics.HUB_AUDIT_ENTRIES, [WireRecord(case.case_id.encode(), value, headers)])
