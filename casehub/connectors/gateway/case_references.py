"""The case a caller names: the hub's case id at the full level, the caller's own case reference when pseudonymised."""

from __future__ import annotations

from casehub.connectors.gateway.case_view import CasesView
from casehub.registry import Disclosure, Partner
from casehub.streams.pseudonyms import Pseudonyms
from casehub.streams.state import CaseState


class CaseReferences:
    """Finds cases by the id each caller knows them by.

    A pseudonymised partner only ever sees its own case references (HMACs, not reversible), so the gateway keeps,
    per such partner, its references of the cases in the view, extended as new cases arrive. The hub's case id is
    never answered to it: that would join its references to every other feed.
    """

    def __init__(self, cases: CasesView, pseudonyms: Pseudonyms) -> None:
        self.cases = cases
        self.pseudonyms = pseudonyms
        self._by_reference: dict[str, dict[str, str]] = {}
        self._indexed: dict[str, set[str]] = {}

    def find(self, named: str, partner: Partner) -> CaseState | None:
        """The case ``partner`` calls ``named``, or None; ViewNotReady while the view is still catching up."""
        if partner.disclosure is not Disclosure.PSEUDONYMISED:
            return self.cases.get(named)
        self.cases.get(named)  # raises ViewNotReady before the view has caught up, as for everyone else
        case_id = self._references_of(partner.id).get(named)
        return self.cases.get(case_id) if case_id is not None else None

    def _references_of(self, org: str) -> dict[str, str]:
        references = self._by_reference.setdefault(org, {})
        indexed = self._indexed.setdefault(org, set())
        for case_id in self.cases.cases.keys() - indexed:
            references[self.pseudonyms.case_reference(org, case_id)] = case_id
            indexed.add(case_id)
        return references
