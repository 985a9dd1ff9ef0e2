"""Project stage: the copy of an event one recipient may see, built by allowlist from the .avsc disclosure markings.

Every field names the levels it is sent at and how (``disclose``, see casehub/schemas/README.md); the projection
starts from nothing and copies only what the recipient's level is allowed, so a field nobody marked is sent to
nobody. On top of the level, PDPA s26: on an event tagged sensitive (by its ``sensitivity`` tags or by what its
issue category or target group imply) every free-text field and every tagged field goes only to a recipient
granted every tag involved — the case owner and the addressee, health and police partners as the registry says.

The pipeline, replay and the gateway's case view all project through this module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any

from casehub.core import geography
from casehub.core.errors import ContractError
from casehub.schemas.codec import WireRecord, encode_binary
from casehub.schemas.markings import FieldPlan, field_plan, implied_sensitivity
from casehub.schemas.models import CaseEvent, model_for
from casehub.streams import wire
from casehub.streams.pseudonyms import Pseudonyms

REDACTED = "[withheld]"
"""What a required text field holds when the recipient may not see it (Avro cannot make it null)."""
HUB_SOURCE = "/hub"
"""The CloudEvents source of a pseudonymised record whose sender's id would name a tambon."""
DISCLOSURE_HEADER = "ce_casehubdisclosure"
FULL, PSEUDONYMISED = "full", "pseudonymised"
THAI_TIME = timezone(timedelta(hours=7), "ICT")
_SMALL_AMPHOE = 2
"""An amphoe with this many tambons or fewer is as telling as a tambon: only its province is sent."""


@dataclass(frozen=True, slots=True)
class Projection:
    """A projected event, the source and key it is delivered under, and the paths not received as they are."""

    event: CaseEvent
    source: str
    key: bytes
    withheld: tuple[str, ...]


def sensitivity_of(event: CaseEvent) -> frozenset[str]:
    """The PDPA s26 kinds an event holds: its own tags and those its issue category and target group imply."""
    return frozenset(event.sensitivity) | implied_sensitivity(event.issue_category, event.target_group)


def names_a_tambon(org: str) -> bool:
    """Whether an org id points at a tambon: a tambon centre, a sub-provincial LAO, or any 6-digit code in it."""
    if org.startswith("tc-") or (org.startswith("lao-") and not org.startswith("lao-pao-")):
        return True
    digits = "".join(c if c.isdigit() else " " for c in org).split()
    return any(len(run) >= 6 for run in digits)


def shown_org(org: str, recipient: str) -> bool:
    """Whether a pseudonymised recipient may receive ``org``: it names no tambon, or it is the recipient itself."""
    return org == recipient or not names_a_tambon(org)


def shown_source(source: str, recipient: str) -> str:
    """The CloudEvents source a pseudonymised recipient receives: the sender's, or the hub's if that names a tambon."""
    org = source.removeprefix("/partners/")
    return source if org == source or shown_org(org, recipient) else HUB_SOURCE


def day_of(value: datetime | str) -> datetime | str:
    """The Thai calendar day a moment falls on, written as 00:00 UTC of that date (so it reads as the same date
    everywhere), in the type it came in (a datetime or ISO text)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    day = datetime.combine(moment.astimezone(THAI_TIME).date(), time(0), UTC)
    return day.isoformat(timespec="milliseconds") if isinstance(value, str) else day


@dataclass
class _Walk:
    """One recipient's view of one event while its fields are walked."""

    level: str
    recipient: str
    pseudonyms: Pseudonyms
    source: str
    sensitive: frozenset[str]
    may_see: frozenset[str]
    amphoe_shown: bool
    withheld: list[str]

    @property
    def free_text_withheld(self) -> bool:
        """PDPA s26: on a sensitive event, free text needs every tag of the event."""
        return bool(self.sensitive) and not self.sensitive <= self.may_see

    def withholds_sensitive(self, plan: FieldPlan) -> bool:
        """PDPA s26: a tagged field needs its tag; on a sensitive event, free text needs every tag of the event."""
        marking = plan.marking
        if marking.sensitivity and marking.sensitivity not in self.may_see:
            return True
        return marking.pii == "free_text" and self.free_text_withheld


def _placeholder(plan: FieldPlan) -> Any:
    """What a field not sent holds: its default, else ``[withheld]`` (text) or ``[]`` (an array)."""
    if not plan.required:
        return list(plan.default) if isinstance(plan.default, list) else plan.default
    if plan.kind == "string":
        return REDACTED
    if plan.kind == "array":
        return []
    raise ContractError(f"{plan.marking.path} is required but not marked for every level that receives its record",
                        hint="mark it in the .avsc (tests/schemas/test_markings.py names such fields)")


def _pseudonym(rule: str, plan: FieldPlan, value: str, record: dict[str, Any], walk: _Walk) -> str:
    space = rule.removeprefix("keyed:")
    if space == "subject":
        return walk.pseudonyms.subject_token(walk.recipient, value)
    if space == "case":
        return walk.pseudonyms.case_reference(walk.recipient, value)
    if space == "event":
        # an event is (source, id); a case.linked names the report it joined by linked_source + linked_event_id
        origin = record.get("linked_source") if plan.name == "linked_event_id" else walk.source
        return walk.pseudonyms.pseudonym(walk.recipient, "event", f"{origin}\x1f{value}")
    return walk.pseudonyms.pseudonym(walk.recipient, space, value)


def _generalised(rule: str, plan: FieldPlan, value: Any, walk: _Walk) -> Any:
    if rule == "year" and isinstance(value, date):
        return date(value.year, 1, 1)
    if rule == "day" and isinstance(value, datetime | str):
        return day_of(value)
    if rule == "amphoe":
        return value if walk.amphoe_shown else None
    if rule == "org":
        if isinstance(value, list):
            return [org for org in value if shown_org(org, walk.recipient)]
        return value if shown_org(value, walk.recipient) else _placeholder(plan)
    if rule == "source":
        return value if shown_source(value, walk.recipient) == value else _placeholder(plan)
    raise ContractError(f"{plan.marking.path}: disclosure rule {rule!r} does not apply to its value")


def _value(rule: str, plan: FieldPlan, value: Any, record: dict[str, Any], walk: _Walk) -> Any:
    if rule == "as_is":
        return value
    if rule.startswith("keyed:"):
        return _pseudonym(rule, plan, value, record, walk)
    shown = _generalised(rule, plan, value, walk)
    if shown != value:
        walk.withheld.append(plan.marking.path)
    return shown


Compiled = tuple[tuple[str, FieldPlan, "str | None", str, Any, "str | None", bool], ...]
"""Field plans with one level's rule looked up: (name, plan, rule, kind, children compiled, s26 tag, free text)."""


def _compile(plans: tuple[FieldPlan, ...], level: str) -> Compiled:
    return tuple((plan.name, plan, plan.marking.rule(level), plan.kind,
                  _compile(plan.children, level) if plan.children else (), plan.marking.sensitivity,
                  plan.marking.pii == "free_text") for plan in plans)


@cache
def _event_plan(event_type: str, level: str) -> Compiled:
    """An event type's field plan compiled for ``level`` (walked for every delivery: compiled once)."""
    return _compile(field_plan(event_type), level)


def _record(plans: tuple[FieldPlan, ...], record: dict[str, Any], walk: _Walk) -> dict[str, Any]:
    """The fields of ``record`` the recipient receives; a field of ``plans`` absent from ``record`` stays absent."""
    return _walk_record(_compile(plans, walk.level), record, walk)


def _walk_record(compiled: Compiled, record: dict[str, Any], walk: _Walk) -> dict[str, Any]:
    out: dict[str, Any] = {}
    may_see, free_text_withheld = walk.may_see, walk.free_text_withheld
    for name, plan, rule, kind, children, sensitivity, free_text in compiled:
        if name not in record:
            continue
        value = record[name]
        if rule is None or (sensitivity and sensitivity not in may_see) or (free_text and free_text_withheld):
            out[name] = _placeholder(plan)
            if value not in (None, [], REDACTED):
                walk.withheld.append(plan.marking.path)
        elif value is None:
            out[name] = None
        elif kind == "record":
            out[name] = _walk_record(children, value, walk)
        elif kind == "array" and children:
            out[name] = [_walk_record(children, item, walk) for item in value]
        elif rule == "as_is":
            out[name] = value
        else:
            out[name] = _value(rule, plan, value, record, walk)
    return out


def _walk_for(event_like: dict[str, Any], *, level: str, recipient: str, pseudonyms: Pseudonyms, source: str,
              sensitive: frozenset[str], may_see: frozenset[str]) -> _Walk:
    if level not in (FULL, PSEUDONYMISED):
        raise ContractError(f"the {level!r} disclosure level receives no events", hint="aggregate partners get counts")
    amphoe = (event_like.get("location") or {}).get("amphoe_code")
    shown = bool(amphoe) and geography.tambons_in_amphoe(amphoe) > _SMALL_AMPHOE
    return _Walk(level, recipient, pseudonyms, source, sensitive, may_see, shown, [])


@dataclass(frozen=True, slots=True)
class ProjectedData:
    """A projection as Avro data (the ``to_avro()`` shape), before any model is built of it."""

    data: dict[str, Any]
    source: str
    key: bytes
    withheld: tuple[str, ...]


def project_data(event: CaseEvent, original: dict[str, Any], *, source: str, recipient: str, level: str,
                 may_see: frozenset[str], pseudonyms: Pseudonyms, sensitive: frozenset[str] | None = None
                 ) -> ProjectedData:
    """What :func:`project` projects, as data: ``original`` is ``event.to_avro()`` (taken once per event by callers
    that project it for several recipients; it is not changed), ``sensitive`` its :func:`sensitivity_of`."""
    walk = _walk_for(original, level=level, recipient=recipient, pseudonyms=pseudonyms, source=source,
                     sensitive=sensitivity_of(event) if sensitive is None else sensitive, may_see=may_see)
    data = _walk_record(_event_plan(event.type, level), original, walk)
    # the tags themselves are s26 data: a recipient is told only of the kinds it may see
    data["sensitivity"] = [tag for tag in data.get("sensitivity", []) if tag in may_see]
    if level == PSEUDONYMISED:
        delivered_source = shown_source(source, recipient)
        key = (data.get("case_id") or "").encode()
    else:
        delivered_source, key = source, (event.case_id or "").encode()
    return ProjectedData(data, delivered_source, key, tuple(dict.fromkeys(walk.withheld)))


def project(event: CaseEvent, *, source: str, recipient: str, level: str, may_see: frozenset[str],
            pseudonyms: Pseudonyms) -> Projection:
    """The copy of ``event`` (from ``source``) that ``recipient`` receives at ``level``, granted s26 kinds ``may_see``."""
    found = project_data(event, event.to_avro(), source=source, recipient=recipient, level=level, may_see=may_see,
                         pseudonyms=pseudonyms)
    projected = model_for(event.type).model_validate(found.data)
    return Projection(projected, found.source, found.key, found.withheld)


def outbound_wire(projected: ProjectedData, level: str, *, schema_base: str) -> WireRecord:
    """The ``partner.<org>.outbound`` record of projected data: the bytes :func:`outbound_record` writes for the
    model of the same projection, written from the data as it is (the pipeline's path)."""
    return wire.binary_record(projected.data, source=projected.source, schema_base=schema_base, key=projected.key,
                              extra=[(DISCLOSURE_HEADER, level.encode())])


def outbound_record(projection: Projection, level: str, *, schema_base: str) -> WireRecord:
    """The ``partner.<org>.outbound`` record of a projection: binary CloudEvent, keyed per case, level in a header;
    ``ce_dataschema`` names the Avro schema under ``schema_base``, the hub's public URL."""
    wire = encode_binary(projection.event, source=projection.source, schema_base=schema_base)
    return WireRecord(projection.key, wire.value, [*wire.headers, (DISCLOSURE_HEADER, level.encode())])


# the gateway's case view, field by field: the event field whose marking it takes (view metadata is sent as is)
_VIEW_MARKINGS: dict[str, tuple[str, str]] = {
    "case_id": ("case.reported", "case_id"), "subject_token": ("case.reported", "subject_token"),
    "issue_category": ("case.reported", "issue_category"), "target_group": ("case.reported", "target_group"),
    "location": ("case.reported", "location"), "risk_level": ("case.reported", "risk_level"),
    "opened_at": ("case.reported", "occurred_at"), "updated_at": ("case.reported", "occurred_at"),
    "escalated_at": ("case.reported", "occurred_at"), "assign_by": ("case.reported", "enrichment.assign_by"),
    "provincial_office": ("case.reported", "enrichment.provincial_office"), "owner": ("case.assigned", "to_unit"),
    "disclosure_consents": ("consent.recorded", "recipient"),
}


def _plan_at(event_type: str, path: str) -> FieldPlan:
    plans, found = field_plan(event_type), None
    for part in path.split("."):
        found = next(p for p in plans if p.name == part)
        plans = found.children
    assert found is not None
    return found


def project_case_view(view: dict[str, Any], *, recipient: str, level: str, pseudonyms: Pseudonyms
                      ) -> tuple[dict[str, Any], list[str]]:
    """A case's state as the gateway shows it, projected like the events it came from: each field takes the
    marking of the event field it is made of (``_VIEW_MARKINGS``); returns the view and the withheld paths."""
    walk = _walk_for(view, level=level, recipient=recipient, pseudonyms=pseudonyms, source=HUB_SOURCE,
                     sensitive=frozenset(), may_see=frozenset())
    out = dict(view)
    for name, (event_type, path) in _VIEW_MARKINGS.items():
        if name not in view:
            continue
        plan = _plan_at(event_type, path)
        renamed = FieldPlan(name, replace(plan.marking, path=name), plan.kind, required=False, default=None,
                            children=plan.children)
        items = view[name]
        if isinstance(items, list):  # a list of org ids, each marked like the one field it comes from
            kept = [_record((renamed,), {name: item}, walk)[name] for item in items]
            out[name] = [item for item in kept if item is not None]
        else:
            out[name] = _record((renamed,), {name: items}, walk)[name]
    return out, list(dict.fromkeys(walk.withheld))
