"""GET /v1/schemas/...: every ce_dataschema a record carries resolves, without a key, to the schema of its data."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import fastavro
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from casehub.schemas import EVENT_TYPES, avro_schema_url, json_schema_url, schema_version
from casehub.schemas.models import parse_event
from casehub.schemas.publish import published_path, published_versions
from tests.connectors.events import example, outbound
from tests.connectors.gateway.conftest import Running, write_registry
from tests.connectors.gateway.server import GatewayServer, gateway_settings, load
from tests.connectors.gateway.sse_client import read
from tests.kafka_helpers import produce
from tests.streams.harness import free_port, header, read_until, report, with_ids


@pytest.fixture(scope="module")
def running(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A gateway whose CASEHUB_PUBLIC_URL is its own address, so the URLs it writes resolve to it."""
    workdir = tmp_path_factory.mktemp("gateway-schemas")
    orgs = write_registry(workdir / "partners.yaml")
    registry = load(workdir / "partners.yaml")
    apply_topics(settings, registry)
    port = free_port()
    gateway = GatewayServer(gateway_settings(settings, workdir / "home", workdir / "partners.yaml",
                                             public_url=f"http://127.0.0.1:{port}"), registry, port=port)
    gateway.start()
    yield Running(gateway, orgs)
    gateway.stop()


def test_the_index_lists_every_published_version_without_a_key(running: Running) -> None:
    with running.gateway.client() as anonymous:
        answer = anonymous.get("/v1/schemas")
    assert answer.status_code == 200
    listed = {entry["type"]: entry for entry in answer.json()["schemas"]}
    assert list(listed) == list(EVENT_TYPES)
    reported = listed["case.reported"]
    assert reported["current_version"] == schema_version("case.reported")
    assert reported["versions"][0] == {"version": 1, "avro": avro_schema_url(running.gateway.url, "case.reported", 1),
                                       "json_schema": json_schema_url(running.gateway.url, "case.reported", 1)}


def test_every_schema_url_serves_the_published_file(running: Running) -> None:
    with running.gateway.client() as anonymous:
        for event_type in EVENT_TYPES:
            for version in published_versions(event_type):
                avro = anonymous.get(avro_schema_url(running.gateway.url, event_type, version))
                assert avro.status_code == 200, avro.text
                assert avro.headers["content-type"] == "application/vnd.apache.avro+json"
                assert avro.text == published_path(event_type, version).read_text(encoding="utf-8")
                url = json_schema_url(running.gateway.url, event_type, version)
                document = anonymous.get(url)
                assert document.status_code == 200
                assert document.headers["content-type"] == "application/schema+json"
                served = document.json()
                assert served.pop("$id") == url
                assert served == json.loads(published_path(event_type, version, "json-schema").read_text(encoding="utf-8"))


def test_an_unchanged_schema_is_not_sent_twice(running: Running) -> None:
    url = avro_schema_url(running.gateway.url, "case.closed")
    with running.gateway.client() as anonymous:
        first = anonymous.get(url)
        again = anonymous.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert first.headers["cache-control"] == "public, max-age=3600"
    assert (again.status_code, again.content) == (304, b"")


@pytest.mark.parametrize("path", [
    "/v1/schemas/case.deleted/v1", "/v1/schemas/case.reported/v99", "/v1/schemas/case.reported/vthree",
    "/v1/schemas/case.reported/v99/json-schema", "/v1/schemas/case.reported/v0",
])
def test_an_unknown_type_or_version_is_404(running: Running, path: str) -> None:
    with running.gateway.client() as anonymous:
        answer = anonymous.get(path)
    assert answer.status_code == 404
    assert "schema" in answer.text


def test_a_record_the_gateway_writes_names_its_avro_schema_which_decodes_it(running: Running) -> None:
    body = report().to_json()
    org = running.orgs.lao
    with running.gateway.client(org) as client:
        assert client.post("/v1/events", json=body).status_code == 202
        (record,) = with_ids(read_until(running.gateway.settings, [topics.inbound(org)],
                                        done=lambda rs: bool(with_ids(rs, {body["id"]})), timeout=30.0), {body["id"]})
        dataschema = (header(record, "ce_dataschema") or b"").decode()
        assert dataschema == avro_schema_url(running.gateway.url, "case.reported")
        writer = fastavro.parse_schema(client.get(dataschema).json(), named_schemas={})
    decoded, sent = parse_event(fastavro.schemaless_reader(io.BytesIO(record.value), writer, None)), parse_event(body)
    assert (decoded.id, decoded.subject, decoded.location) == (sent.id, sent.subject, sent.location)  # type: ignore[attr-defined]
    assert abs(decoded.occurred_at - sent.occurred_at) < timedelta(milliseconds=1)  # Avro keeps milliseconds


def test_a_streamed_event_names_the_json_schema_which_validates_its_data(running: Running) -> None:
    org = running.orgs.far
    event = example("case.triaged", case_id="CASE-20261128-A1B2C3D4E5")
    wire = outbound(event)  # an outbound record as the worker writes it: Avro, ce_dataschema naming the Avro schema
    produce(running.gateway.settings, topics.outbound(org), [(wire.key, wire.value, wire.headers)])
    with running.gateway.client(org) as client:
        status, events = read(client, params={"start": "earliest", "limit": 1})
        assert status == 200
        delivered = events[-1].json()
        assert delivered["dataschema"] == json_schema_url(running.gateway.url, "case.triaged")
        schema = client.get(delivered["dataschema"]).json()
    assert list(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(delivered["data"])) == []
    assert parse_event(delivered["data"]) == event


def test_the_examples_name_schemas_the_local_gateway_serves() -> None:
    examples = Path(__file__).parents[3] / "examples" / "events"
    for event_type in EVENT_TYPES:
        document = json.loads((examples / f"{event_type}.json").read_text(encoding="utf-8"))
        assert document["dataschema"] == json_schema_url("http://127.0.0.1:8080", event_type)  # `make demo`'s gateway
