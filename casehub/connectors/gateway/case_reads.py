"""Who may read a case through GET /v1/cases/{id}; the audit entries written before a read is answered or a streamed
batch is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from casehub.connectors.gateway.models import CaseView
from casehub.connectors.gateway.producer import EventWriter
from casehub.core import topics
from casehub.core.logging import get_logger
from casehub.registry import Partner
from casehub.schemas.codec import WireRecord
from casehub.streams import audit, route
from casehub.streams.pseudonyms import Pseudonyms
from casehub.streams.state import CaseState

if TYPE_CHECKING:
    from casehub.connectors.gateway.state import Gateway

log = get_logger(__name__)
READ_CHANNEL = "gateway GET /v1/cases/{case_id}"
STREAM_CHANNEL = "gateway GET /v1/stream"


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


async def record_streamed(hub: Gateway, partner: Partner, records: list[Any]) -> None:
    """Write the audit entry of a batch of deliveries before the SSE stream sends it (acks=all); a failed write
    ends the stream with nothing of the batch sent. Case ids are the hub's, revealed from a pseudonymised
    partner's own references, so a subject report finds the batch."""
    shown = []
    for record in records:
        key = (record.key or b"").decode(errors="replace")
        case_id = hub.references.pseudonyms.reveal(partner.id, "case", key) if Pseudonyms.is_reference("case", key) \
            else key
        event_id = next((v for k, v in (record.headers or []) if k == "ce_id"), b"").decode(errors="replace")
        shown.append({"topic": record.topic, "partition": record.partition, "offset": record.offset,
                      "event_id": event_id, "case_id": case_id})
    value = audit.stream_record(recipient=partner.id, disclosure=partner.disclosure.value, channel=STREAM_CHANNEL,
                                records=shown, now=datetime.now(UTC))
    headers = [("content-type", audit.AUDIT_CONTENT_TYPE)]
    await hub.writer.write(topics.HUB_AUDIT_ENTRIES, [WireRecord(partner.id.encode(), value, headers)])
