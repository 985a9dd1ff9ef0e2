"""Simulated lifecycles respect the hub's case-level rights: every valid event passes the authorize stage."""

from __future__ import annotations

from collections import Counter

import pytest

from casehub.connectors.simulator import SimulatorOptions, generate
from casehub.core import topics
from casehub.core.settings import Settings
from casehub.registry import Registry, load_registry
from casehub.streams.exceptions import CaseRightRefused
from tests.streams.test_stage_rules import origin_of_event, processor, run, tables

CALM = SimulatorOptions(duplicates=0.2, retries=0.0, malformed=0.0)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(Settings(registry_path=None))


def test_every_simulated_event_about_a_case_comes_from_a_partner_entitled_to_send_it(registry: Registry) -> None:
    core, store = processor(registry), tables()
    case_ids: dict[str, str] = {}
    refused: Counter[tuple[str, str]] = Counter()
    accepted = 0
    for item in generate(11, 150, CALM, registry=registry):
        assert item.event is not None and item.case_ref is not None
        event = item.event
        if event.type != "case.reported":
            event = event.model_copy(update={"case_id": case_ids[item.case_ref]})
        try:
            outputs = run(core, origin_of_event(event, item.org), store, now=event.occurred_at)
        except CaseRightRefused as exc:
            refused[(event.type, exc.rule)] += 1
            continue
        accepted += 1
        if event.type == "case.reported":
            case_id = next(o.key for o in outputs if o.topic == topics.CASES_EVENTS).decode()
            assert case_ids.setdefault(item.case_ref, case_id) == case_id  # a second channel joins the same case
    assert not refused, refused
    assert accepted > 1000
