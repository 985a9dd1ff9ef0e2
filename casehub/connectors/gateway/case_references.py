"""The case a caller names: the hub's case id at the full level, the caller's own case reference when pseudonymised."""

from __future__ import annotations

from casehub.connectors.gateway.case_view import CasesView
from casehub.registry import Disclosure, Partner
from casehub.streams.pseudonyms import Pseudonyms
from casehub.streams.state import CaseState


class CaseReferences:
    """Finds cases by the id each caller knows them by.

    A pseudonymised partner only ever sees its own case references; the hub reveals the case id behind one with
    that partner's key (``Pseudonyms.reveal``). The hub's case id is never answered to it: that would join its
    references to every other feed.
    """

    def __init__(self, cases: CasesView, pseudonyms: Pseudonyms) -> None:
        self.cases = cases
        self.pseudonyms = pseudonyms

    def find(self, named: str, partner: Partner) -> CaseState | None:
        """The case ``partner`` calls ``named``, or None; ViewNotReady while the view is still catching up."""
        if partner.disclosure is not Disclosure.PSEUDONYMISED:
            return self.cases.get(named)
        self.cases.get(named)  # raises ViewNotReady before the view has caught up, as for everyone else
        case_id = self.pseudonyms.reveal(partner.id, "case", named)
        return self.cases.get(case_id) if case_id is not None else None
