"""End to end against the real broker: partners publish, a `casehub worker` subprocess routes, partners read."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.schemas.codec import decode
from casehub.streams.audit import entries as audit_entries
from casehub.streams.dlq import read_error
from casehub.streams.keys import CASE_ID
from casehub.streams.pseudonyms import Pseudonyms
from casehub.vault.feed import reading_store
from tests.streams.conftest import Hub
from tests.streams.harness import (
    NEIGHBOUR_TAMBON,
    TAMBON,
    citizen_id,
    follow_up,
    header,
    publish,
    read_until,
    report,
    with_ids,
)
from tests.vault.helpers import plain_value

WAIT = 60.0


def outbound_of(orgs: list[str]) -> list[str]:
    return [topics.outbound(org) for org in orgs]


def test_an_event_reaches_the_provincial_office_and_tambon_centre_and_no_one_else(hub: Hub) -> None:
    event = report(category="elderly")  # only the province's office and the tambon's centre subscribe to it
    publish(hub.settings, hub.lao, [event])

    records = read_until(
        hub.settings, outbound_of(hub.everyone),
        done=lambda rs: len(with_ids(rs, {event.id})) >= 2, timeout=WAIT, settle=3.0,
    )
    mine = with_ids(records, {event.id})
    assert sorted(r.topic for r in mine) == sorted([topics.outbound(f"tc-{TAMBON}"), topics.outbound("pso-84")])
    delivered = decode(mine[0].value, mine[0].headers)
    assert CASE_ID.match(delivered.event.case_id or "")
    assert mine[0].key == delivered.event.case_id.encode()
    assert delivered.source == topics.event_source(hub.lao)  # the topic's org, not what the partner claimed
    assert delivered.event.location.province_name_en == "Surat Thani"
    assert delivered.event.enrichment is not None
    assert delivered.event.enrichment.provincial_office == "pso-84"
    assert delivered.event.enrichment.tambon_centre == f"tc-{TAMBON}"
    assert delivered.event.enrichment.laos == [hub.lao]
    assert delivered.event.enrichment.assign_by is not None
    assert f"tc-{NEIGHBOUR_TAMBON}" not in {r.topic.split(".")[1] for r in mine}

    audit = read_until(hub.settings, [topics.HUB_AUDIT], done=lambda rs: len(_audits(rs, event.id)) >= 2,
                       timeout=WAIT, settle=1.0)
    assert sorted(a["recipient"] for a in _audits(audit, event.id)) == ["pso-84", f"tc-{TAMBON}"]
    assert {a["lawful_basis"] for a in _audits(audit, event.id)} == {event.lawful_basis.basis}


def _audits(records: list, event_id: str) -> list[dict]:
    found = [entry for r in records for entry in audit_entries(json.loads(r.value))]
    return [a for a in found if a.get("event_id") == event_id]


def test_an_ngo_receives_a_pseudonymised_record_without_identifiers_or_free_text(hub: Hub) -> None:
    cid = citizen_id()
    event = report(cid=cid, birth=date(2014, 6, 3), summary="เด็กถูกทิ้งไว้ลำพังที่บ้านเลขที่ 99 ซอยลับ",
                   reporter_phone="0812345678")
    event = event.model_copy(update={"subject": event.subject.model_copy(
        update={"given_name": "สมหญิง", "family_name": "ใจดีมาก", "phone": "0899999999"})})
    publish(hub.settings, hub.lao, [event])

    # the NGO knows the event by its own reference of (source, id), never by the LAO's id
    known_as = Pseudonyms.from_settings(hub.settings).pseudonym(hub.ngo, "event",
                                                                 f"{topics.event_source(hub.lao)}\x1f{event.id}")
    records = read_until(hub.settings, [topics.outbound(hub.ngo)],
                         done=lambda rs: bool(with_ids(rs, {known_as})), timeout=WAIT)
    (record,) = with_ids(records, {known_as})
    raw = record.value + b"".join(k.encode() + v for k, v in record.headers) + record.key
    for hub_value in (event.id, hub.lao, TAMBON):
        assert hub_value.encode() not in raw, hub_value
    for secret in (cid, "สมหญิง", "ใจดีมาก", "ซอยลับ", "0812345678", "0899999999", "2014-06-03"):
        assert secret.encode() not in raw, secret
    assert hashlib.sha256(cid.encode()).hexdigest()[:16].encode() not in raw  # not a plain hash either
    assert header(record, "ce_casehubdisclosure") == b"pseudonymised"
    seen = decode(record.value, record.headers).event
    assert seen.subject_token and seen.subject_token.startswith("subject-v1-")  # the NGO's own pseudonym
    assert seen.subject.birth_date == date(2014, 1, 1)
    assert seen.location.tambon_code is None and seen.location.amphoe_code == TAMBON[:4]
    assert seen.summary is None and seen.subject.citizen_id is None
    assert seen.enrichment is not None and seen.enrichment.tambon_centre is None and seen.enrichment.age_years is None

    full = read_until(hub.settings, [topics.outbound("pso-84")], done=lambda rs: bool(with_ids(rs, {event.id})),
                      timeout=WAIT)
    (office_copy,) = with_ids(full, {event.id})
    assert decode(office_copy.value, office_copy.headers).event.subject.citizen_id == cid  # full disclosure


def test_a_partner_retry_is_delivered_once(hub: Hub) -> None:
    event = report(category="elderly")
    publish(hub.settings, hub.lao, [event], key=b"first-try")
    publish(hub.settings, hub.lao, [event], key=b"second-try", structured=True)  # same (source, id), other mode

    records = read_until(hub.settings, [topics.outbound("pso-84"), topics.CASES_EVENTS],
                         done=lambda rs: len(with_ids(rs, {event.id})) >= 2, timeout=WAIT, settle=4.0)
    mine = with_ids(records, {event.id})
    assert sorted(r.topic for r in mine) == [topics.CASES_EVENTS, topics.outbound("pso-84")]


def test_a_hotline_and_an_lao_report_of_one_child_carry_one_case_id_everywhere(hub: Hub) -> None:
    cid = citizen_id()
    by_hotline = report(cid=cid)
    by_lao = report(cid=cid, channel="lao", reporter_type="official")
    publish(hub.settings, "hotline-1300", [by_hotline])
    publish(hub.settings, hub.lao, [by_lao])

    receivers = ["hotline-1300", "pso-84", f"tc-{TAMBON}", hub.lao, hub.ngo]
    # the pseudonymised NGO knows the case, and each report, by references of its own
    pseudonyms = Pseudonyms.from_settings(hub.settings)
    ngo_ids = {pseudonyms.pseudonym(hub.ngo, "event", f"{topics.event_source(org)}\x1f{event.id}")
               for org, event in (("hotline-1300", by_hotline), (hub.lao, by_lao))}
    ids = {by_hotline.id, by_lao.id} | ngo_ids

    def case_of_lao_report(records: list) -> bytes | None:
        # the LAO's inbound topic is this test's own: only this test's worker assigned a case id to its report
        return next((r.key for r in with_ids(records, {by_lao.id})), None)

    def keys_of_case(records: list) -> set[bytes]:
        case_id = case_of_lao_report(records)
        if case_id is None:
            return set()
        return {case_id, pseudonyms.case_reference(hub.ngo, case_id.decode()).encode()}

    def ours(records: list) -> list:
        keys = keys_of_case(records)
        return [r for r in records if r.key in keys]

    def complete(records: list) -> bool:
        mine = ours(records)
        linked = [r for r in mine if header(r, "ce_type") == b"case.linked" and _links(r, ids)]
        return len(with_ids(mine, ids)) >= 2 * len(receivers) and len(linked) >= len(receivers)

    records = read_until(hub.settings, outbound_of(receivers), done=complete, timeout=WAIT, settle=2.0)
    case_id = case_of_lao_report(records)
    assert case_id is not None
    reference = pseudonyms.case_reference(hub.ngo, case_id.decode()).encode()
    mine = ours(records)
    reports = with_ids(mine, ids)
    linked = [r for r in mine if header(r, "ce_type") == b"case.linked" and _links(r, ids)]
    assert sorted(r.topic for r in reports) == sorted(outbound_of(receivers) * 2)  # both reports, everywhere
    assert sorted(r.topic for r in linked) == sorted(outbound_of(receivers))
    ngo_topic = topics.outbound(hub.ngo)
    assert {header(r, "ce_subject") for r in reports + linked if r.topic != ngo_topic} == {case_id}
    assert {header(r, "ce_subject") for r in reports + linked if r.topic == ngo_topic} == {reference}
    assert {r.key for r in with_ids(records, {by_lao.id})} == {case_id}  # never under a second case id
    assert {r.key for r in records if r.topic == ngo_topic and header(r, "ce_id") in {i.encode() for i in ngo_ids}} \
        == {reference}


def _links(record: object, ids: set[str]) -> bool:
    event = decode(record.value, record.headers).event  # type: ignore[attr-defined]
    return getattr(event, "linked_event_id", None) in ids


def test_a_malformed_record_goes_to_the_dlq_unchanged_and_the_partition_keeps_flowing(hub: Hub) -> None:
    poison_headers = [("content-type", b"application/avro"), ("ce_specversion", b"1.0"), ("ce_id", b"poison-1"),
                      ("ce_type", b"case.reported"), ("ce_source", b"/x"),
                      ("ce_dataschema", b"urn:casehub:schema:case.reported:v3"), ("trace", b"abc")]
    poison_value = b"\x00\x01 definitely not avro " + citizen_id().encode()
    good = report(category="elderly")
    from kafka import KafkaProducer

    producer = KafkaProducer(**connection(hub.settings, "admin").kafka_python(), acks="all")
    try:
        producer.send(topics.inbound(hub.lao), key=b"poison-key", value=poison_value, headers=poison_headers).get(30)
    finally:
        producer.close(timeout=10)
    publish(hub.settings, hub.lao, [good])

    with reading_store(hub.settings) as store:  # the worker seals a dead letter's value under its subject's key
        plain = plain_value(store)
        dlq = read_until(hub.settings, [topics.HUB_DLQ], done=lambda rs: any(plain(r) == poison_value for r in rs),
                         timeout=WAIT)
        (dead,) = [r for r in dlq if plain(r) == poison_value]
    assert dead.value != poison_value  # sealed: the citizen id in it is not readable in hub.dlq
    assert dead.key == b"poison-key"
    assert dead.headers[: len(poison_headers)] == poison_headers
    error = read_error(dead.headers)
    assert error["stage"] == "validate"
    assert "not a case.reported" in error["reason"] or "decode" in error["reason"]
    assert error["topic"] == topics.inbound(hub.lao)
    assert error["exception"] == "DecodeError" and error["attempts"] == "1"
    assert int(error["offset"]) >= 0 and error["partition"] == "0"

    flowed = read_until(hub.settings, [topics.outbound("pso-84")], done=lambda rs: bool(with_ids(rs, {good.id})),
                        timeout=WAIT)
    assert with_ids(flowed, {good.id})


def test_an_event_about_an_unknown_case_is_dead_lettered_by_the_core_stage(hub: Hub) -> None:
    stray = follow_up("case.assigned", case_id="CASE-20260101-AB12345678", to_unit="pso-84")
    publish(hub.settings, hub.lao, [stray])
    dlq = read_until(hub.settings, [topics.HUB_DLQ], done=lambda rs: bool(with_ids(rs, {stray.id})), timeout=WAIT)
    (dead,) = with_ids(dlq, {stray.id})
    assert read_error(dead.headers)["stage"] == "dedupe"
    assert "no case" in read_error(dead.headers)["reason"]
    assert not any(k.startswith("hub.origin.") for k, _ in dead.headers)


def test_a_high_risk_case_not_assigned_in_time_is_escalated_to_the_provincial_office(hub: Hub) -> None:
    event = report(category="family_violence")  # high risk; the test hub gives 4 s to assign
    publish(hub.settings, hub.lao, [event])
    records = read_until(
        hub.settings, [topics.outbound("pso-84")],
        done=lambda rs: bool(_escalations(rs, with_ids(rs, {event.id}))), timeout=WAIT,
    )
    (delivered,) = with_ids(records, {event.id})
    (escalated,) = _escalations(records, [delivered])
    body = decode(escalated.value, escalated.headers)
    assert body.event.escalated_to == "pso-84" and body.event.missed_action == "assignment"
    assert body.source == "/hub"


def _escalations(records: list, reports: list) -> list:
    case_ids = {r.key for r in reports}
    return [r for r in records if header(r, "ce_type") == b"case.escalated" and r.key in case_ids]
