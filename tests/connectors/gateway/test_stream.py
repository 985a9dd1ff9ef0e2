"""GET /v1/stream: the caller's outbound topic as SSE, resumed exactly after Last-Event-ID."""

from __future__ import annotations

from casehub.core import topics
from tests.connectors.events import example, outbound
from tests.connectors.gateway.conftest import Running
from tests.connectors.gateway.sse_client import parse, read
from tests.kafka_helpers import produce


def deliver(running: Running, org: str, count: int) -> list[str]:
    """Write ``count`` deliveries to ``org``'s outbound topic as the pipeline would; their event ids."""
    events = [example("case.triaged", case_id="CASE-20261128-A1B2C3D4E5") for _ in range(count)]
    produce(running.gateway.settings, topics.outbound(org),
            [(r.key, r.value, r.headers) for r in (outbound(e, disclosure="full") for e in events)])
    return [e.id for e in events]


def test_a_stream_resumes_right_after_the_last_event_id(running: Running) -> None:
    org = running.orgs.far  # nothing else delivers to it in this module
    first_ids = deliver(running, org, 5)
    with running.gateway.client(org) as client:
        status, events = read(client, params={"start": "earliest", "limit": 3})
        assert status == 200
        opened, *received = events
        assert opened.event == "stream.opened" and opened.id == "0:-1"
        assert [e.json()["id"] for e in received] == first_ids[:3]
        assert [e.event for e in received] == ["case.triaged"] * 3
        assert received[0].json()["casehubdisclosure"] == "full"
        assert received[0].json()["subject"] == "CASE-20261128-A1B2C3D4E5"
        last_seen = received[-1].id
        assert last_seen is not None and last_seen.startswith("0:")

        later_ids = deliver(running, org, 2)
        status, resumed = read(client, params={"limit": 4}, last_event_id=last_seen)
        assert status == 200
        assert resumed[0].id == last_seen  # the stream opens where the client left off
        assert [e.json()["id"] for e in resumed[1:]] == first_ids[3:] + later_ids

        newest_ids = deliver(running, org, 1)
        status, tail = read(client, params={"limit": 1}, last_event_id=resumed[-1].id)
        assert [e.json()["id"] for e in tail[1:]] == newest_ids


def test_a_stream_started_latest_sends_only_new_deliveries(running: Running) -> None:
    org = running.orgs.ngo
    deliver(running, org, 2)
    with running.gateway.client(org) as client, client.stream("GET", "/v1/stream", params={"limit": 1}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        text = ""
        chunks = answer.iter_text()
        while not parse(text):
            text += next(chunks)
        (opened,) = parse(text)
        assert opened.event == "stream.opened"
        new_ids = deliver(running, org, 1)
        for chunk in chunks:  # the server ends the stream after limit=1 event
            text += chunk
    opened, delivered = parse(text)
    assert delivered.json()["id"] == new_ids[0]
    assert delivered.json()["casehubdisclosure"] == "full"


def test_every_streamed_delivery_is_in_the_audit_log_before_it_is_sent(running: Running) -> None:
    import json
    import time

    from tests.connectors.replay.canonical import end_offsets
    from tests.streams.harness import read_until

    org = running.orgs.far
    started = time.time()
    ids = deliver(running, org, 3)
    total = sum(end_offsets(running.gateway.settings, topics.outbound(org)).values())  # no transactions: all records
    with running.gateway.client(org) as client:
        status, events = read(client, params={"start": "earliest", "limit": total})
    assert status == 200
    sent = {e.json()["id"]: e.id for e in events[1:]}
    assert set(ids) <= set(sent)

    def streamed(records: list) -> list[dict]:
        found = [json.loads(r.value) for r in records if b'"streamed"' in (r.value or b"")]
        return [e for e in found if e["recipient"] == org]

    audit = read_until(running.gateway.settings, [topics.HUB_AUDIT], since=started - 5, timeout=60,
                       done=lambda rs: set(ids) <= {r["event_id"] for e in streamed(rs) for r in e["records"]})
    entries = streamed(audit)
    recorded = {r["event_id"]: r for e in entries for r in e["records"]}
    assert set(ids) <= set(recorded)
    for event_id in ids:
        record = recorded[event_id]
        assert record["case_id"] == "CASE-20261128-A1B2C3D4E5" and record["topic"] == topics.outbound(org)
        assert f"{record['partition']}:{record['offset']}" in sent[event_id]  # the SSE id names the same position
    assert {e["channel"] for e in entries} == {"gateway GET /v1/stream"} and {e["disclosure"] for e in entries} <= {
        "full", "pseudonymised"}


def test_a_malformed_last_event_id_is_a_400(running: Running) -> None:
    with running.gateway.client(running.orgs.lao) as client:
        answer = client.get("/v1/stream", headers={"Last-Event-ID": "yesterday"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "bad_request"


def test_a_stream_needs_a_key(running: Running) -> None:
    with running.gateway.client() as client:
        assert client.get("/v1/stream").status_code == 401
