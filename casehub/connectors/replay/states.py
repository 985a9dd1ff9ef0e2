"""The current case states that grant one partner more than its registry entry: cases it owns or has consent for."""

from __future__ import annotations

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.exceptions import UnknownTopic
from casehub.ops.kafka_io import read_spans, reader, whole_topic
from casehub.streams.state import CaseState


def grants(state: CaseState, org: str) -> bool:
    """Whether the case's state widens what ``org`` receives (it owns the case, or consent names it)."""
    return state.owner == org or org in state.disclosure_consents


def case_states_for(settings: Settings, org: str, *, topic: str = topics.CASES_STATE) -> dict[str, CaseState]:
    """The latest state of every case that grants ``org`` more, read from the compacted ``cases.state``.

    Only those are kept (a few per partner), so reading years of cases stays small in memory.
    """
    found: dict[str, CaseState] = {}
    with reader(settings, client_id=f"casehub-replay-states-{org}") as consumer:
        try:
            spans = whole_topic(consumer, topic)
        except UnknownTopic:
            return found
        for record in read_spans(consumer, topic, spans):
            if record.key is None:
                continue
            case_id = record.key.decode()
            if record.value is None:
                found.pop(case_id, None)
                continue
            state = CaseState.from_bytes(record.value)
            if grants(state, org):
                found[case_id] = state
            else:
                found.pop(case_id, None)
    return found
