"""End to end through the real broker: partners acting on a case they have no right to act on, and the proof it failed.

Each test sends what a partner should not be able to do, then shows it did not work: the record is in
``hub.dlq`` with the rule in ``hub.error.reason``, ``hub.audit`` holds the refusal, nothing reached
``cases.events`` or any partner, and the case's state is what it was (a later event of the owner, on the
same partition, shows the worker moved on past the refused one).
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.schemas.codec import decode
from casehub.schemas.models import CaseEvent
from casehub.streams.dlq import read_error
from tests.streams.conftest import Hub, start_hub, workdir_for
from tests.streams.harness import TAMBON, follow_up, partner, publish, read_until, report, with_ids

WAIT = 60.0
CATEGORY = "family_violence"
FAR_TAMBON = "500101"  # Chiang Mai: another province
HEALTH_NOTE = "ภาวะขาดสารอาหารเล็กน้อย"  # the contract's example case.assessed health_condition


@dataclass
class Rights:
    """A running hub with an OSCC hospital and a crowdfunding partner, and a case the hospital owns."""

    hub: Hub
    hospital: str
    crowdfunding: str
    case_id: str

    @property
    def settings(self) -> Settings:
        return self.hub.settings

    @property
    def centre(self) -> str:
        return f"tc-{TAMBON}"

    def event(self, event_type: str, **fields: Any) -> CaseEvent:
        return follow_up(event_type, case_id=self.case_id, issue_category=CATEGORY, **fields)


@pytest.fixture(scope="module")
def rights(settings: Settings) -> Iterator[Rights]:
    slug = "r" + uuid.uuid4().hex[:8]
    hospital, crowdfunding = f"hosp-{slug}", f"private-{slug}"
    extra = [
        partner(hospital, "hospital", {"provinces": ["84"]}, "full", ["referral.*"], sensitive_access=["health"]),
        partner(crowdfunding, "private", "national", "full", ["case.reported"], ["poverty"]),
    ]
    path = workdir_for(settings)
    hub = start_hub(settings, path, extra_partners=extra)
    try:
        reported = report(category=CATEGORY)
        publish(settings, hub.lao, [reported])
        delivered = read_until(settings, [topics.outbound("pso-84")], done=lambda rs: bool(with_ids(rs, {reported.id})),
                               timeout=WAIT)
        case_id = with_ids(delivered, {reported.id})[0].key.decode()
        # the province's office triages the case to the hospital's one-stop crisis centre: the hospital owns it
        triaged = follow_up("case.triaged", case_id=case_id, issue_category=CATEGORY, assigned_unit=hospital)
        publish(settings, "pso-84", [triaged])
        read_until(settings, [topics.outbound(hospital)], done=lambda rs: bool(with_ids(rs, {triaged.id})), timeout=WAIT)
        yield Rights(hub, hospital, crowdfunding, case_id)
    finally:
        hub.worker.stop()
        shutil.rmtree(path, ignore_errors=True)


def _refusals(records: list[Any], event_id: str) -> list[dict[str, Any]]:
    found = [json.loads(r.value) for r in records]
    return [a for a in found if a.get("event_id") == event_id and a.get("decision") == "refused"]


def _states(records: list[Any], case_id: str) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records if r.topic == topics.CASES_STATE and r.key == case_id.encode()]


def refused(rights: Rights, sender: str, event: CaseEvent, rule: str) -> dict[str, Any]:
    """Send ``event`` as ``sender``; check it was refused by ``rule`` and had no effect. Returns the case's state."""
    settings = rights.settings
    publish(settings, sender, [event])

    dlq = read_until(settings, [topics.HUB_DLQ], done=lambda rs: bool(with_ids(rs, {event.id})), timeout=WAIT)
    (dead,) = with_ids(dlq, {event.id})
    error = read_error(dead.headers)
    assert error["stage"] == "authorize" and error["exception"] == "CaseRightRefused"
    assert f"rule '{rule}'" in error["reason"] and error["topic"] == topics.inbound(sender)

    audit = read_until(settings, [topics.HUB_AUDIT], done=lambda rs: bool(_refusals(rs, event.id)), timeout=WAIT)
    (record,) = _refusals(audit, event.id)
    assert record["rule"] == rule and record["sender"] == sender and record["case_id"] == rights.case_id
    assert record["recipient"] is None and record["event_type"] == event.type

    # the owner's next event goes through the same partition after the refused one: once it is out, so is the verdict
    later = rights.event("case.followup")
    publish(settings, rights.hospital, [later])
    everywhere = [topics.CASES_EVENTS, topics.CASES_STATE, *(topics.outbound(org) for org in rights.hub.everyone)]
    records = read_until(settings, everywhere, timeout=WAIT,
                         done=lambda rs: any(s["last_event_id"] == later.id for s in _states(rs, rights.case_id)))
    assert not with_ids(records, {event.id}), "the refused event reached cases.events or a partner"
    states = _states(records, rights.case_id)
    # the SLA timer may escalate the case in between (fast SLA in tests): look for the owner's event, not the last
    (after_later,) = [s for s in states if s["last_event_id"] == later.id]
    assert all(s["last_event_id"] != event.id for s in states)
    return after_later


def test_a_tambon_centre_cannot_transfer_a_case_to_itself_with_a_token_override(rights: Rights) -> None:
    grab = rights.event("case.transferred", from_unit=rights.hospital, to_unit=rights.centre, consent=None,
                        consent_override={"reason": "ด่วน", "authorised_by": rights.centre})
    case = refused(rights, rights.centre, grab, "custody")
    assert case["owner"] == rights.hospital and case["assignee"] is None

    # so the hospital's assessment still reaches the tambon centre without the health condition
    assessed = rights.event("case.assessed")
    assert getattr(assessed, "health_condition") == HEALTH_NOTE  # noqa: B009
    publish(rights.settings, rights.hospital, [assessed])
    copies = read_until(rights.settings, [topics.outbound(rights.centre)],
                        done=lambda rs: bool(with_ids(rs, {assessed.id})), timeout=WAIT)
    (copy,) = with_ids(copies, {assessed.id})
    assert decode(copy.value, copy.headers).event.health_condition is None  # type: ignore[attr-defined]
    assert HEALTH_NOTE.encode() not in copy.value


def test_another_partner_cannot_close_the_case(rights: Rights) -> None:
    closing = rights.event("case.closed")
    case = refused(rights, rights.hub.lao, closing, "closure")  # an LAO of the case's tambon: not its owner
    assert case["status"] == "open"


def test_a_partner_that_does_not_own_the_case_cannot_record_consent_for_new_recipients(rights: Rights) -> None:
    consent = rights.event("consent.recorded", scope="disclosure", recipient=rights.crowdfunding)
    case = refused(rights, rights.centre, consent, "consent")
    assert rights.crowdfunding not in case["disclosure_consents"]


def test_a_follow_up_cannot_reroute_the_case_to_another_province(rights: Rights) -> None:
    moved = rights.event("case.followup", location={"tambon_code": FAR_TAMBON})
    case = refused(rights, rights.centre, moved, "location")  # the centre may follow up, but not move the case
    assert case["tambon_code"] == TAMBON and case["provincial_office"] == "pso-84"


def test_a_pseudonymised_partner_answers_a_referral_by_its_own_references_and_no_one_elses(rights: Rights) -> None:
    from casehub.streams.pseudonyms import Pseudonyms

    settings, ngo = rights.settings, rights.hub.ngo
    referral = rights.event("referral.requested", recipient=ngo, referral_id=f"RF-{uuid.uuid4().hex[:8]}")
    publish(settings, rights.hospital, [referral])
    received = read_until(settings, [topics.outbound(ngo)], done=lambda rs: len(rs) >= 1 and any(
        decode(r.value, r.headers).event.type == "referral.requested" for r in rs), timeout=WAIT)
    (mine,) = [decode(r.value, r.headers).event for r in received if decode(r.value, r.headers).event.type == "referral.requested"]
    assert mine.case_id != rights.case_id and mine.referral_id != referral.referral_id  # the NGO's own references

    accepted = follow_up("referral.accepted", case_id=mine.case_id, issue_category=CATEGORY, referral_id=mine.referral_id,
                         recipient=ngo)
    publish(settings, ngo, [accepted])
    canonical = read_until(settings, [topics.CASES_EVENTS], done=lambda rs: bool(with_ids(rs, {accepted.id})), timeout=WAIT)
    (record,) = with_ids(canonical, {accepted.id})
    back = decode(record.value, record.headers).event
    assert (back.case_id, back.referral_id) == (rights.case_id, referral.referral_id)  # the hub's ids again
    assert record.key == rights.case_id.encode()

    # another partner's reference of the same case does not open it to the NGO
    theirs = Pseudonyms.from_settings(settings).case_reference(rights.crowdfunding, rights.case_id)
    forged = follow_up("referral.accepted", case_id=theirs, issue_category=CATEGORY, referral_id=mine.referral_id,
                       recipient=ngo)
    publish(settings, ngo, [forged])
    dlq = read_until(settings, [topics.HUB_DLQ], done=lambda rs: bool(with_ids(rs, {forged.id})), timeout=WAIT)
    (dead,) = with_ids(dlq, {forged.id})
    assert read_error(dead.headers)["reason"].endswith(f"case_id is not a case reference the hub gave {ngo}")
