"""Through the real pipeline: a `casehub worker` subprocess behind the gateway (the stream tests' harness).

A POST retried through a second gateway (whose memory of recent ids is empty) is written twice to the
inbound topic; the pipeline's (source, id) dedupe delivers it once. GET /v1/cases then answers from
cases.state at each caller's disclosure level, only to partners the case is routed to, and audits each read.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.streams.audit import entries as audit_entries
from casehub.streams.pseudonyms import Pseudonyms
from tests.connectors.gateway.server import GatewayServer, gateway_settings
from tests.streams.conftest import FAST_SLA, Hub, start_hub
from tests.streams.harness import (
    NEIGHBOUR_TAMBON,
    TAMBON,
    citizen_id,
    follow_up,
    header,
    partner,
    publish,
    read_until,
    report,
    with_ids,
)

WAIT = 90.0


@dataclass
class Stack:
    hub: Hub
    gateway: GatewayServer
    second: GatewayServer
    hospital: str
    crowdfunding: str


@pytest.fixture(scope="module")
def stack(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("stack")
    slug = "s" + uuid.uuid4().hex[:8]
    hospital, crowdfunding = f"hosp-{slug}", f"private-{slug}"
    extra = [  # an OSCC that takes referrals, and a national crowdfunding platform for poverty cases
        partner(hospital, "hospital", {"provinces": ["84"]}, "full", ["referral.*"], sensitive_access=["health"]),
        partner(crowdfunding, "private", "national", "full", ["case.reported"], ["poverty"]),
    ]
    hub = start_hub(settings, workdir / "hub", FAST_SLA, extra_partners=extra)
    gateways = []
    try:
        for _ in range(2):
            gateway = GatewayServer(gateway_settings(settings, workdir / "home", hub.worker.registry_path), hub.registry)
            gateway.start()
            gateways.append(gateway)
        yield Stack(hub, *gateways, hospital=hospital, crowdfunding=crowdfunding)
    finally:
        for gateway in gateways:
            gateway.stop()
        hub.worker.stop()


def test_a_post_retried_after_a_gateway_restart_is_delivered_once(stack: Stack) -> None:
    event = report(category="elderly")  # delivered to pso-84 and tc-840502
    body = event.to_json()
    with stack.gateway.client(stack.hub.lao) as first, stack.second.client(stack.hub.lao) as second:
        assert first.post("/v1/events", json=body).json()["events"][0]["status"] == "accepted"
        assert second.post("/v1/events", json=body).json()["events"][0]["status"] == "accepted"

    inbound = read_until(stack.hub.settings, [topics.inbound(stack.hub.lao)],
                         done=lambda rs: len(with_ids(rs, {event.id})) >= 2, timeout=WAIT)
    assert len(with_ids(inbound, {event.id})) == 2  # both gateways wrote it
    delivered = read_until(stack.hub.settings, [topics.outbound("pso-84")],
                           done=lambda rs: bool(with_ids(rs, {event.id})), timeout=WAIT, settle=5.0)
    (record,) = with_ids(delivered, {event.id})
    assert header(record, "ce_source") == f"/partners/{stack.hub.lao}".encode()


def _case_of(stack: Stack, event_id: str) -> str:
    delivered = read_until(stack.hub.settings, [topics.outbound(f"tc-{TAMBON}")],
                           done=lambda rs: bool(with_ids(rs, {event_id})), timeout=WAIT)
    (record,) = with_ids(delivered, {event_id})
    return str(record.key.decode())


def _get_when_known(gateway: GatewayServer, org: str, case_id: str) -> dict:
    with gateway.client(org) as client:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            answer = client.get(f"/v1/cases/{case_id}")
            if answer.status_code == 200:
                return dict(answer.json())
            assert answer.status_code == 404, answer.text
            time.sleep(0.5)
    raise AssertionError(f"{case_id} did not reach the gateway's case view within {WAIT} s")


def test_get_case_is_projected_to_each_callers_disclosure_level(stack: Stack) -> None:
    cid = citizen_id()
    event = report(cid=cid, summary="เด็กถูกทิ้งไว้ลำพังที่บ้านเลขที่ 99 ซอยลับ", reporter_phone="0812345678")
    event = event.model_copy(update={"subject": event.subject.model_copy(update={"given_name": "สมหญิง", "family_name": "ใจดีมาก"})})
    with stack.gateway.client(stack.hub.lao) as client:
        assert client.post("/v1/events", json=event.to_json()).status_code == 202
    case_id = _case_of(stack, event.id)

    full = _get_when_known(stack.gateway, stack.hub.lao, case_id)
    assert full["disclosure"] == "full"
    assert full["location"]["tambon_code"] == TAMBON
    assert full["location"]["province_name_en"] == "Surat Thani"
    assert full["issue_category"] == event.issue_category and full["status"] == "open"

    # the pseudonymised NGO names the case by its own reference (the key of its outbound records), never by the id
    reference = Pseudonyms.from_settings(stack.hub.settings).case_reference(stack.hub.ngo, case_id)
    with stack.gateway.client(stack.hub.ngo) as client:
        by_hub_id = client.get(f"/v1/cases/{case_id}")
        answer = client.get(f"/v1/cases/{reference}")
    assert by_hub_id.status_code == 404
    assert answer.status_code == 200, answer.text
    pseudonymised = answer.json()
    assert pseudonymised["disclosure"] == "pseudonymised" and pseudonymised["case_id"] == reference
    assert pseudonymised["location"]["tambon_code"] is None and pseudonymised["location"]["tambon_name_th"] is None
    assert pseudonymised["location"]["amphoe_code"] == TAMBON[:4]
    assert pseudonymised["subject_token"] != full["subject_token"]  # each partner's own pseudonym
    assert pseudonymised["opened_at"].endswith("T00:00:00.000+00:00")  # to the day
    assert "location.tambon_code" in pseudonymised["withheld"]
    for secret in (cid, "สมหญิง", "ใจดีมาก", "ซอยลับ", "0812345678", "บ้านใต้", case_id, TAMBON):
        assert secret.encode() not in answer.content, secret

    for outsider in (f"tc-{NEIGHBOUR_TAMBON}", "pso-50"):
        with stack.gateway.client(outsider) as client:
            refused = client.get(f"/v1/cases/{case_id}")
            unknown = client.get("/v1/cases/CASE-20260101-00AAAAAAAA")
        assert refused.status_code == 404
        assert json.loads(refused.content)["code"] == unknown.json()["code"] == "not_found"
    with stack.gateway.client("hotline-1300") as client:  # national
        assert client.get(f"/v1/cases/{case_id}").status_code == 200


def _reads(records: list[Any], case_id: str) -> list[dict[str, Any]]:
    found = [json.loads(r.value) for r in records]
    return [a for a in found if a.get("case_id") == case_id and a.get("decision") == "read"]


def test_a_partner_the_case_is_not_routed_to_gets_404_and_each_answered_read_is_audited(stack: Stack) -> None:
    settings = stack.hub.settings
    reported = report(category="family_violence")
    publish(settings, stack.hub.lao, [reported])
    delivered = read_until(settings, [topics.outbound("pso-84")], done=lambda rs: bool(with_ids(rs, {reported.id})),
                           timeout=WAIT)
    case_id = with_ids(delivered, {reported.id})[0].key.decode()
    triaged = follow_up("case.triaged", case_id=case_id, issue_category="family_violence", assigned_unit=stack.hospital)
    publish(settings, "pso-84", [triaged])
    since = time.time()

    # the OSCC owns the case (it subscribes to referrals only): it reads the case once the triage reached the view
    owned = _get_when_known(stack.gateway, stack.hospital, case_id)
    assert owned["owner"] == stack.hospital and owned["disclosure"] == "full"
    office = _get_when_known(stack.gateway, "pso-84", case_id)
    assert office["issue_category"] == "family_violence"

    # the crowdfunding partner covers the whole country, but the hub never routes it a family-violence case
    with stack.gateway.client(stack.crowdfunding) as client:
        refused = client.get(f"/v1/cases/{case_id}")
        unknown = client.get("/v1/cases/CASE-20260101-00AAAAAAAA")
    assert refused.status_code == unknown.status_code == 404
    assert refused.json()["code"] == unknown.json()["code"] == "not_found"
    assert refused.json()["detail"].replace(case_id, "?") == unknown.json()["detail"].replace(
        "CASE-20260101-00AAAAAAAA", "?")  # word for word what an unknown case gets

    audit = read_until(settings, [topics.HUB_AUDIT], since=since - 60, timeout=WAIT, settle=2.0,
                       done=lambda rs: {"pso-84", stack.hospital} <= {a["recipient"] for a in _reads(rs, case_id)})
    reads = _reads(audit, case_id)
    assert {a["recipient"] for a in reads} == {"pso-84", stack.hospital}  # the refused read disclosed nothing
    record = next(a for a in reads if a["recipient"] == "pso-84")
    assert record["disclosure"] == "full" and record["channel"] == "gateway GET /v1/cases/{case_id}"
    assert record["event_id"] is None and record["withheld_fields"] == []
    # the disclosure log names the subject as the deliveries of the case's events do: by the hub's own token
    delivered = [entry for r in audit for entry in audit_entries(json.loads(r.value))]
    hub_token = next(a["subject_token"] for a in delivered if a.get("event_id") == reported.id)
    assert record["subject_token"] == hub_token
