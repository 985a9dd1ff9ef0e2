"""The CloudEvents HTTP binding, as the official ``cloudevents`` SDK writes it, and RFC 9457 problem answers."""

from __future__ import annotations

import json
from typing import Any

import httpx
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent

from casehub.core import topics
from casehub.schemas.codec import decode
from tests.connectors.gateway.conftest import Running
from tests.streams.harness import follow_up, header, read_until, report, with_ids

WAIT = 30.0
CASE_ID = "CASE-20261128-A1B2C3D4E5"


def written(running: Running, org: str, ids: set[str]) -> list[Any]:
    """The records with those ids on ``org``'s inbound topic (all of them, bounded), oldest first."""
    records = read_until(running.gateway.settings, [topics.inbound(org)],
                         done=lambda rs: len(with_ids(rs, ids)) >= len(ids), timeout=WAIT)
    return sorted(with_ids(records, ids), key=lambda r: r.offset)


def sdk_event(body: dict[str, Any], **attributes: Any) -> CloudEvent:
    """A CloudEvent made by the SDK: the event's id and type as attributes, the rest of the body as data."""
    data = {k: v for k, v in body.items() if k not in ("id", "type")}
    return CloudEvent(attributes={"id": body["id"], "type": body["type"], "source": "/somewhere/else",
                                  "datacontenttype": "application/json", **attributes}, data=data)


def test_binary_mode_from_the_cloudevents_sdk_is_accepted(running: Running) -> None:
    reported = report().to_json()
    triaged = follow_up("case.triaged", case_id=CASE_ID).to_json()
    triaged.pop("case_id")  # the case id travels as the CloudEvent's subject
    with running.gateway.client(running.orgs.lao) as client:
        answers = []
        for event in (sdk_event(reported), sdk_event(triaged, subject=CASE_ID)):
            message = ce_http.to_binary_event(event)
            assert "ce-specversion" in message.headers and b"specversion" not in message.body
            answers.append(client.post("/v1/events", content=message.body, headers=message.headers))
    for answer in answers:
        assert answer.status_code == 202, answer.text
        assert answer.json()["source"] == f"/partners/{running.orgs.lao}"
    first, second = written(running, running.orgs.lao, {reported["id"], triaged["id"]})
    assert header(first, "ce_type") == b"case.reported" and header(first, "ce_source") == f"/partners/{running.orgs.lao}".encode()
    assert decode(first.value, first.headers).event.subject.citizen_id == reported["subject"]["citizen_id"]
    assert second.key == CASE_ID.encode() and decode(second.value, second.headers).event.case_id == CASE_ID


def test_structured_and_batch_mode_from_the_cloudevents_sdk_are_accepted(running: Running) -> None:
    one, first, second = (report().to_json() for _ in range(3))
    with running.gateway.client(running.orgs.ngo) as client:
        message = ce_http.to_structured_event(sdk_event(one))
        assert message.headers["content-type"].startswith("application/cloudevents+json")
        structured = client.post("/v1/events", content=message.body, headers=message.headers)
        batch = [json.loads(ce_http.to_structured_event(sdk_event(e)).body) for e in (first, second)]
        batched = client.post("/v1/events/batch", content=json.dumps(batch),
                              headers={"Content-Type": "application/cloudevents-batch+json"})
    assert structured.status_code == 202, structured.text
    assert batched.status_code == 202, batched.text
    assert [e["id"] for e in batched.json()["events"]] == [first["id"], second["id"]]
    records = written(running, running.orgs.ngo, {one["id"], first["id"], second["id"]})
    assert [header(r, "ce_id").decode() for r in records][-2:] == [first["id"], second["id"]]


def test_binary_mode_errors_name_the_headers(running: Running) -> None:
    body = report().to_json()
    headers = {"ce-specversion": "1.0", "ce-source": "/x", "ce-type": "case.reported", "Content-Type": "application/json"}
    with running.gateway.client(running.orgs.lao) as client:
        no_id = client.post("/v1/events", content=json.dumps(body), headers=headers)
        other_type = client.post("/v1/events", content=json.dumps(body),
                                 headers={**headers, "ce-id": body["id"], "ce-type": "case.closed"})
        array = client.post("/v1/events", content=json.dumps([body]), headers={**headers, "ce-id": body["id"]})
        plain = {k: v for k, v in body.items() if k != "type"}
        untyped = client.post("/v1/events", json=plain)
    assert no_id.status_code == 422
    assert [(e["field"], e["message"]) for e in no_id.json()["errors"]] == [
        ("ce-id", "is required in binary mode (the CloudEvents HTTP binding)")]
    assert other_type.status_code == 422 and "differs" in json.dumps(other_type.json())
    assert array.status_code == 400 and "one event" in array.json()["detail"]
    # a plain body without a type says how to name one, instead of a bare "type: is missing"
    assert untyped.status_code == 422
    [problem] = untyped.json()["errors"]
    assert problem["field"] == "type" and "ce-type header (binary mode)" in problem["message"]


def test_every_error_is_a_problem_document_whose_type_resolves(running: Running) -> None:
    with running.gateway.client(running.orgs.lao) as client:
        too_many = [report().to_json() for _ in range(running.gateway.settings.gateway_max_batch + 1)]
        answers = {
            400: client.post("/v1/events", content=b"{not json", headers={"Content-Type": "application/json"}),
            404: client.get("/v1/nothing-here"),
            405: client.delete("/v1/events"),
            413: client.post("/v1/events/batch", json=too_many),
            415: client.post("/v1/events", content=b"a,b", headers={"Content-Type": "text/csv"}),
            422: client.post("/v1/events", json={**report().to_json(), "issue_category": "nonsense"}),
        }
    answers[401] = httpx.post(f"{running.gateway.url}/v1/events", json=report().to_json(), timeout=10)
    for status, answer in answers.items():
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        document = answer.json()
        assert document["status"] == status and document["detail"] and document["title"]
        assert document["instance"] == answer.request.url.path
        described = httpx.get(document["type"], timeout=10)
        assert described.status_code == 200, document["type"]
        assert (described.json()["code"], described.json()["title"]) == (document["code"], document["title"])
    assert answers[413].json()["code"] == "too_large" and answers[415].json()["code"] == "unsupported_media_type"
    assert answers[422].json()["errors"][0]["field"] == "issue_category"
    assert answers[401].headers["WWW-Authenticate"] == 'Bearer realm="casehub"'
    missing = httpx.get(f"{running.gateway.url}/problems/no_such_problem", timeout=10)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
