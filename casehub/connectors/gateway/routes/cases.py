"""GET /v1/cases/{case_id}: a case's current state, for partners the case is routed to, at their disclosure level."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from casehub.connectors.gateway.auth import Caller, caller
from casehub.connectors.gateway.case_reads import may_read, record_read
from casehub.connectors.gateway.case_view import case_view
from casehub.connectors.gateway.exceptions import CaseNotFound
from casehub.connectors.gateway.models import CaseView
from casehub.connectors.gateway.routes.common import errors, rate_limited_success
from casehub.connectors.gateway.state import gateway_of

routes = APIRouter(tags=["cases"])


@routes.get(
    "/v1/cases/{case_id}",
    operation_id="getCase",
    response_model=CaseView,
    response_model_exclude_none=False,
    summary="A case's current state",
    description=(
        "The case as the hub holds it now (from the compacted cases.state topic), projected to the caller's "
        "disclosure level. Answered only to partners the hub delivers the case's events to: their subscription "
        "and jurisdiction select it, or they hold it (owner, assignee), it was disclosed to them with consent, or "
        "referred to them. Anyone else gets the same 404 as for a case that does not exist. Every answered read "
        "is recorded in hub.audit before the answer is sent."
    ),
    responses={200: rate_limited_success("The case at the caller's disclosure level"), **errors(400, 401, 403, 404, 429, 503)},
)
async def get_case(
    request: Request,
    case_id: Annotated[str, Path(description="The hub's case id, e.g. CASE-20261128-A1B2C3D4E5; a pseudonymised partner "
                                 "names the case by its own case reference (case-v1-…)", max_length=128)],
    who: Annotated[Caller, Depends(caller)],
) -> CaseView:
    hub = gateway_of(request)
    case = hub.references.find(case_id, who.partner)
    if case is None or not may_read(who.partner, case, registry=hub.registry):
        raise CaseNotFound(f"no case {case_id} that {who.org} may see")
    view = case_view(case, who.partner, hub.references.pseudonyms)
    await record_read(hub.writer, case, who.partner, view)
    return view
