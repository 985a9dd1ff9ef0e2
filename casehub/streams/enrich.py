"""Enrich stage: geography, responsible units, age and target group, risk level and the SLA deadline."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from casehub.core import geography
from casehub.schemas.models import CaseEvent, Enrichment, Location
from casehub.streams.exceptions import StageRejected
from casehub.streams.state import CaseState

STAGE = "enrich"
CHILD_UNDER = 18
ELDERLY_FROM = 60
# Risk the hub assumes until a caseworker triages: people in danger now are high, poverty alone is low.
HIGH_RISK_CATEGORIES = frozenset({"family_violence", "human_trafficking", "missing_persons"})
HIGH_RISK_FOR_CHILDREN = frozenset({"children_youth", "teen_pregnancy", "drugs", "begging"})
LOW_RISK_CATEGORIES = frozenset({"poverty"})


def age_on(birth: date, day: date) -> int:
    """Whole years between ``birth`` and ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def target_group_for(age: int | None, given: str) -> str:
    """Child under 18 and elderly from 60, from the birth date; otherwise what the partner said."""
    if age is None:
        return given
    if age < CHILD_UNDER:
        return "child"
    if age >= ELDERLY_FROM:
        return "elderly"
    return "general" if given in ("child", "elderly") else given


def assumed_risk(issue_category: str, target_group: str) -> str:
    """The risk level the hub assumes for an untriaged report."""
    if issue_category in HIGH_RISK_CATEGORIES:
        return "high"
    if target_group == "child" and issue_category in HIGH_RISK_FOR_CHILDREN:
        return "high"
    if issue_category in LOW_RISK_CATEGORIES:
        return "low"
    return "medium"


def sla_for(risk: str | None, *, high: timedelta, standard: timedelta) -> timedelta:
    """How long the hub gives to assign a case: 1 h for high risk, else 3 h (Primero's defaults)."""
    return high if risk == "high" else standard


def located(location: Location) -> Location:
    """The location with its tambon resolved (from address text / postal code) and codes and names filled."""
    code = location.tambon_code
    if not code:
        places = geography.resolve_location(location.address_text, location.postal_code)
        if len(places) != 1:
            raise StageRejected(f"location resolves to {len(places)} tambons, not one", stage=STAGE)
        code = places[0].tambon_code
    place = geography.tambon(code)
    if place is None:
        raise StageRejected(f"tambon {code} is not a DOPA tambon", stage=STAGE)
    return location.model_copy(
        update={
            "tambon_code": place.tambon_code,
            "amphoe_code": place.amphoe_code,
            "province_code": place.province_code,
            "tambon_name_th": place.tambon_name_th,
            "tambon_name_en": place.tambon_name_en,
            "amphoe_name_th": place.amphoe_name_th,
            "amphoe_name_en": place.amphoe_name_en,
            "province_name_th": place.province_name_th,
            "province_name_en": place.province_name_en,
        }
    )


def enrich(
    event: CaseEvent,
    *,
    registry: Any,
    now: datetime,
    state: CaseState | None,
    sla_high: timedelta,
    sla_standard: timedelta,
    changes: dict[str, Any] | None = None,
) -> CaseEvent:
    """The event with location, target group, risk level and ``enrichment`` filled in by the hub.

    ``state`` is the case before this event (None for a report that opens a case). ``changes`` are set too, in
    the same copy of the event (the case id and subject token the core hop gives it).
    """
    location = located(event.location)
    units = registry.responsible_units(location.tambon_code)
    subject = getattr(event, "subject", None)
    birth = subject.birth_date if subject is not None else None
    age = age_on(birth, event.occurred_at.date()) if birth else None
    target_group = target_group_for(age, event.target_group)
    risk = event.risk_level or (state.risk_level if state else None) or assumed_risk(event.issue_category, target_group)
    if state is None:
        assign_by: datetime | None = now + sla_for(risk, high=sla_high, standard=sla_standard)
    else:
        assign_by = state.assign_deadline()
    enrichment = Enrichment(
        tambon_centre=units.tambon_centre,
        laos=list(units.laos),
        provincial_office=units.provincial_office,
        age_years=age,
        assign_by=assign_by,
    )
    update = {"location": location, "target_group": target_group, "risk_level": risk, "enrichment": enrichment}
    return event.model_copy(update={**changes, **update} if changes else update)
