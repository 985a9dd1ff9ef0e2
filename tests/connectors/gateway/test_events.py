"""POST /v1/events against a real gateway and the real test broker: what lands on the inbound topic, and what does not."""

from __future__ import annotations

import json
import uuid
from typing import Any

from casehub.core import topics
from casehub.schemas.codec import decode, encode_structured
from tests.connectors.events import SCHEMA_BASE
from tests.connectors.gateway.conftest import Running, start
from tests.streams.harness import citizen_id, header, read_until, report, with_ids

WAIT = 30.0


def plain(**changes: Any) -> dict[str, Any]:
    return report(**changes).to_json()


def records_with_ids(running: Running, org: str, ids: set[str], *, expect: int, settle: float = 0.0) -> list[Any]:
    """The records of ``org``'s inbound topic with those ids: read until ``expect`` arrived (bounded), then ``settle`` s."""
    records = read_until(running.gateway.settings, [topics.inbound(org)],
                         done=lambda rs: expect > 0 and len(with_ids(rs, ids)) >= expect, timeout=WAIT if expect else 0.0,
                         settle=settle)
    return with_ids(records, ids)


def test_one_plain_event_is_written_to_the_partners_inbound_topic_before_202(running: Running) -> None:
    body = plain()
    with running.gateway.client(running.orgs.lao) as client:
        answer = client.post("/v1/events", json=body)
    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert result["source"] == f"/partners/{running.orgs.lao}"
    assert result["topic"] == topics.inbound(running.orgs.lao)
    assert [(e["id"], e["status"]) for e in result["events"]] == [(body["id"], "accepted")]

    (record,) = records_with_ids(running, running.orgs.lao, {body["id"]}, expect=1, settle=3.0)
    assert (record.partition, record.offset) == (result["events"][0]["partition"], result["events"][0]["offset"])
    assert header(record, "content-type") == b"application/avro"
    assert header(record, "ce_type") == b"case.reported"
    assert header(record, "ce_source") == f"/partners/{running.orgs.lao}".encode()
    assert record.key is None  # no case id yet: the hub assigns it
    decoded = decode(record.value, record.headers)
    assert decoded.mode == "binary"
    assert decoded.event.subject.citizen_id == body["subject"]["citizen_id"]


def test_the_source_is_the_authenticated_partner_even_when_the_cloudevent_claims_another(running: Running) -> None:
    event = report()
    structured = json.loads(encode_structured(event, source="/partners/hotline-1300", schema_base=SCHEMA_BASE).value)
    assert structured["source"] == "/partners/hotline-1300"
    with running.gateway.client(running.orgs.ngo) as client:
        answer = client.post(
            "/v1/events", content=json.dumps(structured), headers={"Content-Type": "application/cloudevents+json"}
        )
    assert answer.status_code == 202, answer.text
    assert answer.json()["source"] == f"/partners/{running.orgs.ngo}"
    (record,) = records_with_ids(running, running.orgs.ngo, {event.id}, expect=1)
    assert header(record, "ce_source") == f"/partners/{running.orgs.ngo}".encode()
    assert decode(record.value, record.headers).event.id == event.id


def test_a_batch_of_plain_and_structured_events_is_written_in_order(running: Running) -> None:
    first, second = report(), report()
    structured = json.loads(encode_structured(second, source="/whatever", schema_base=SCHEMA_BASE).value)
    with running.gateway.client(running.orgs.lao) as client:
        answer = client.post("/v1/events", json=[first.to_json(), structured])
    assert answer.status_code == 202, answer.text
    assert [e["id"] for e in answer.json()["events"]] == [first.id, second.id]
    found = records_with_ids(running, running.orgs.lao, {first.id, second.id}, expect=2, settle=3.0)
    assert [header(r, "ce_id").decode() for r in sorted(found, key=lambda r: r.offset)] == [first.id, second.id]


def test_a_batch_with_one_bad_event_gets_422_with_field_errors_and_nothing_is_written(running: Running) -> None:
    good = plain()
    bad_id = plain()
    bad_id["subject"]["citizen_id"] = "1103700123459"  # wrong check digit
    bad_tambon = plain(location={"tambon_code": "999999"})
    hub_only = {**plain(), "type": "case.linked"}
    with running.gateway.client(running.orgs.lao) as client:
        answer = client.post("/v1/events", json=[good, bad_id, bad_tambon, {"id": "x"}, hub_only])
    assert answer.status_code == 422, answer.text
    document = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert (document["code"], document["status"], document["title"]) == ("invalid_events", 422, "Invalid events")
    assert document["type"].endswith("/problems/invalid_events") and document["instance"] == "/v1/events"
    by_index: dict[int, list[str]] = {}
    for error in document["errors"]:
        by_index.setdefault(error["index"], []).append(error["field"])
    assert 0 not in by_index
    assert by_index[1] == ["subject.citizen_id"]
    assert by_index[2] == ["location.tambon_code"]
    assert by_index[3] == ["type"]
    assert "type" in by_index[4] or by_index[4]  # a hub-written type is refused
    assert any("check digit" in e["message"] for e in document["errors"] if e["index"] == 1)

    ids = {good["id"], bad_id["id"], bad_tambon["id"], hub_only["id"]}
    assert records_with_ids(running, running.orgs.lao, ids, expect=0, settle=3.0) == []


def test_hub_written_event_types_are_refused(running: Running) -> None:
    linked = {**plain(), "type": "case.escalated"}
    with running.gateway.client(running.orgs.lao) as client:
        answer = client.post("/v1/events", json=linked)
    assert answer.status_code == 422
    messages = [e["message"] for e in answer.json()["errors"]]
    assert messages and all(e["index"] == 0 for e in answer.json()["errors"])
    assert records_with_ids(running, running.orgs.lao, {linked["id"]}, expect=0, settle=2.0) == []


def test_unreadable_bodies_are_400_and_wrong_media_types_415(running: Running) -> None:
    with running.gateway.client(running.orgs.lao) as client:
        assert client.post("/v1/events", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
        assert client.post("/v1/events", json=[]).status_code == 400
        assert client.post("/v1/events", content=b"a,b", headers={"Content-Type": "text/csv"}).status_code == 415
        too_many = [plain() for _ in range(running.gateway.settings.gateway_max_batch + 1)]
        assert client.post("/v1/events", json=too_many).status_code == 413


def test_missing_wrong_and_revoked_keys_get_401_and_write_nothing(running: Running) -> None:
    body = plain()
    with running.gateway.client() as anonymous:
        missing = anonymous.post("/v1/events", json=body)
    with running.gateway.client(key="chk_" + uuid.uuid4().hex) as wrong:
        unknown = wrong.post("/v1/events", json=body)
    issued = running.gateway.keys.issue(running.orgs.lao)
    running.gateway.keys.revoke(running.orgs.lao, issued.record.key_id)
    with running.gateway.client(key=issued.secret) as revoked_client:
        # the gateway re-reads the key file within a second of a change
        revoked = revoked_client.post("/v1/events", json=body)
    for answer in (missing, unknown, revoked):
        assert answer.status_code == 401, answer.text
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert answer.json()["code"] == "unauthenticated"
    assert records_with_ids(running, running.orgs.lao, {body["id"]}, expect=0, settle=2.0) == []


def test_a_retried_post_is_answered_already_submitted_and_written_once(running: Running) -> None:
    body = plain()
    with running.gateway.client(running.orgs.lao) as client:
        first = client.post("/v1/events", json=body)
        again = client.post("/v1/events", json=body)
    assert first.status_code == again.status_code == 202
    assert first.json()["events"][0]["status"] == "accepted"
    assert again.json()["events"][0]["status"] == "already_submitted"
    assert again.json()["accepted"] == 0
    assert len(records_with_ids(running, running.orgs.lao, {body["id"]}, expect=1, settle=3.0)) == 1


def test_reusing_an_event_id_for_different_content_is_refused(running: Running) -> None:
    body = plain()
    changed = {**body, "subject": {**body["subject"], "citizen_id": citizen_id()}}
    with running.gateway.client(running.orgs.lao) as client:
        assert client.post("/v1/events", json=body).status_code == 202
        answer = client.post("/v1/events", json=changed)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "id"
    (record,) = records_with_ids(running, running.orgs.lao, {body["id"]}, expect=1, settle=2.0)
    assert decode(record.value, record.headers).event.subject.citizen_id == body["subject"]["citizen_id"]


def test_the_rate_limit_answers_429_with_retry_after(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    limited = start(settings, tmp_path / "limited", gateway_rate_per_minute=3)
    try:
        with limited.gateway.client(limited.orgs.lao) as client:
            answers = [client.get("/v1/cases/CASE-20260101-00AAAAAAAA") for _ in range(4)]
            other = limited.gateway.client(limited.orgs.ngo)
            not_limited = other.get("/v1/cases/CASE-20260101-00AAAAAAAA")
            other.close()
    finally:
        limited.gateway.stop()
    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    assert int(answers[3].headers["Retry-After"]) >= 1
    # each answer says where the partner's bucket stands
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"3"}
    assert int(answers[2].headers["RateLimit-Reset"]) >= 1
    assert answers[3].json()["code"] == "rate_limited"
    assert not_limited.status_code == 404  # buckets are per partner


def test_cloudevents_media_types_need_cloudevents(running: Running) -> None:
    body = plain()
    with running.gateway.client(running.orgs.lao) as client:
        answer = client.post("/v1/events", content=json.dumps(body), headers={"Content-Type": "application/cloudevents+json"})
        batch = client.post("/v1/events", content=json.dumps(body), headers={"Content-Type": "application/cloudevents-batch+json"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "specversion"
    assert batch.status_code == 400


def test_an_event_over_the_size_limit_gets_422_and_nothing_is_written(running: Running) -> None:
    event = plain(category="elderly")
    event["summary"] = "ก" * 400_000  # 1.2 MB once encoded: Kafka's topics would refuse it
    with running.gateway.client(running.orgs.lao) as client:
        answer = client.post("/v1/events", json=event)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["errors"]
    assert "bytes once encoded; the hub takes events of at most 1000000 bytes" in problem["message"]
    assert records_with_ids(running, running.orgs.lao, {event["id"]}, expect=0, settle=2.0) == []
