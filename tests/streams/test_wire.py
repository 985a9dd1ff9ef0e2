"""The pipeline writes its records from Avro data: the same bytes the codec writes from the validated models."""

from __future__ import annotations

from datetime import date

import pytest

from casehub.registry import Registry
from casehub.schemas.codec import encode_binary
from casehub.schemas.models import CaseEvent
from casehub.streams import project, route, wire
from casehub.streams.keys import new_case_id
from casehub.streams.state import CaseState
from tests.connectors.events import SCHEMA_BASE
from tests.streams.harness import EXAMPLES, TAMBON, follow_up, report
from tests.streams.test_projection import NOW, PSEUDONYMS, S26_SUMMARY, enriched, registry  # noqa: F401

SOURCES = ("/partners/lao-840502", "/partners/tc-840503", "/partners/hotline-1300", "/hub")


def events(registry: Registry) -> list[CaseEvent]:  # noqa: F811
    """Every example event type, a sensitive report and a report about a child, enriched as the core hop does."""
    case_id = new_case_id("4B", NOW)
    found = [enriched(report(), registry),
             enriched(report(category="family_violence", summary=S26_SUMMARY, birth=date(2014, 6, 3)), registry,
                      sensitivity=["sexual_violence", "health"])]
    for path in sorted(EXAMPLES.glob("*.json")):
        event_type = path.stem
        if event_type == "case.reported":
            continue
        found.append(enriched(follow_up(event_type, case_id=case_id), registry))
    return found


def owner_state(event: CaseEvent) -> CaseState:
    return CaseState(case_id=event.case_id or "", status="open", opened_at=NOW.isoformat(), updated_at=NOW.isoformat(),
                     last_event_id="e", last_event_type="case.triaged", events=2, issue_category=event.issue_category,
                     target_group=event.target_group, tambon_code=TAMBON, owner=f"tc-{TAMBON}")


@pytest.mark.parametrize("source", SOURCES)
def test_a_canonical_record_from_data_is_the_codecs_record(registry: Registry, source: str) -> None:  # noqa: F811
    for event in events(registry):
        assert wire.binary_record(event.to_avro(), source=source, schema_base=SCHEMA_BASE) == encode_binary(
            event, source=source, schema_base=SCHEMA_BASE), event.type


@pytest.mark.parametrize("source", SOURCES)
def test_every_delivery_from_data_is_the_record_of_the_projected_model(registry: Registry, source: str) -> None:  # noqa: F811
    checked = 0
    for event in events(registry):
        data = event.to_avro()
        deliveries, _ = route.route(event, registry=registry, state=owner_state(event))
        for delivery in deliveries:
            for may_see in (delivery.may_see, frozenset(), frozenset({"health", "sexual_violence", "disability"})):
                kwargs = {"source": source, "recipient": delivery.partner.id, "level": delivery.disclosure,
                          "may_see": may_see, "pseudonyms": PSEUDONYMS}
                model_path = project.outbound_record(project.project(event, **kwargs), delivery.disclosure,
                                                     schema_base=SCHEMA_BASE)
                projected = project.project_data(event, data, **kwargs)
                assert project.outbound_wire(projected, delivery.disclosure, schema_base=SCHEMA_BASE) == model_path
                assert projected.withheld == project.project(event, **kwargs).withheld
                checked += 1
        assert data == event.to_avro()  # projecting never changes the data it is handed
    assert checked > 50
