"""`casehub partners asyncapi ORG` and `casehub asyncapi`: documents the AsyncAPI CLI accepts, that describe only the
partner's own topics as the cluster has them, and records as the hub writes them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from casehub.core import topics
from casehub.core.kafka_connection import local_cluster_security
from casehub.core.settings import Settings
from casehub.ops.topic_plan import INBOUND_RETENTION_MS, OUTBOUND_RETENTION_MS
from casehub.ops.topics import apply_topics
from casehub.registry import parse_registry
from casehub.schemas.codec import encode_binary
from casehub.schemas.models import parse_event
from casehub.streams import project
from casehub.streams.keys import new_case_id
from casehub.streams.pseudonyms import Pseudonyms
from tests.connectors.asyncapi.validator import ensure_cli, validate
from tests.streams.harness import TAMBON, partner, registry_yaml

pytestmark = pytest.mark.timeout(1200)  # the first run installs @asyncapi/cli from npm (2-3 minutes)
ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "events"


@dataclass(frozen=True)
class World:
    """A registry of four partners of this module's own, their topics on the cluster, and the documents written."""

    scram: str
    mtls: str
    pseudonymised: str
    aggregate: str
    folder: Path
    texts: dict[str, str]

    def document(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = yaml.safe_load(self.texts[name])
        return found

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.yaml"

    @property
    def orgs(self) -> tuple[str, ...]:
        return (self.scram, self.mtls, self.pseudonymised, self.aggregate)


def _casehub(*args: str, registry: Path) -> str:
    env = {**os.environ, "CASEHUB_REGISTRY_PATH": str(registry)}
    done = subprocess.run([sys.executable, "-m", "casehub", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def world(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("asyncapi")
    slug = "a" + uuid.uuid4().hex[:8]
    scram, mtls, pseudonymised, aggregate = f"lao-{slug}", f"hosp-{slug}", f"ngo-{slug}", f"ngo-{slug}-stats"
    registry_path = folder / "partners.yaml"
    registry_path.write_text(registry_yaml([
        partner(scram, "lao", {"tambons": [TAMBON]}, "full", ["*"]),
        partner(mtls, "hospital", {"provinces": ["84"]}, "full", ["case.reported", "referral.*"], auth="mtls"),
        partner(pseudonymised, "ngo", {"provinces": ["84"]}, "pseudonymised", ["case.reported"]),
        partner(aggregate, "ngo", {"provinces": ["84"]}, "aggregate", ["case.reported"]),
    ]))
    apply_topics(settings, parse_registry(registry_path.read_text(), source=str(registry_path)))
    texts = {}
    for org in (scram, mtls, pseudonymised, aggregate):
        said = _casehub("partners", "asyncapi", org, "--out", str(folder / f"{org}.yaml"), registry=registry_path)
        assert f"wrote {folder / f'{org}.yaml'}" in said
        texts[org] = (folder / f"{org}.yaml").read_text()
    texts["hub"] = _casehub("asyncapi", registry=registry_path)  # to standard output
    (folder / "hub.yaml").write_text(texts["hub"])
    yield World(scram, mtls, pseudonymised, aggregate, folder, texts)


@pytest.fixture(scope="module")
def asyncapi_cli(settings: Settings) -> Path:
    return ensure_cli(settings.cache_dir)


@pytest.mark.parametrize("which", ["scram", "mtls", "hub"])
def test_the_asyncapi_cli_accepts_the_document(world: World, asyncapi_cli: Path, which: str, tmp_path: Path) -> None:
    name = "hub" if which == "hub" else getattr(world, which)
    result = validate(asyncapi_cli, world.path(name), tmp_path)
    assert result.returncode == 0, result.output
    assert result.errors == [] and result.warnings == [], json.dumps(result.diagnostics, indent=1)[:4000]
    assert world.document(name)["asyncapi"] == "3.0.0"


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def test_every_pattern_is_an_ecma_262_regex(world: World) -> None:
    """JSON Schema patterns are ECMA-262; validators such as ajv compile them in unicode mode, where `\\-` is an error."""
    found = sorted({p for name in (world.scram, world.pseudonymised, "hub") for p in _patterns(world.document(name))})
    assert len(found) > 10
    script = "for (const p of JSON.parse(process.argv[1])) new RegExp(p, 'u');"
    node = shutil.which("node")
    assert node is not None, "node is needed (the AsyncAPI CLI runs on it)"
    done = subprocess.run([node, "-e", script, json.dumps(found)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def _topic(admin: Any, name: str) -> tuple[int, int]:
    """(partitions, replicas) of a topic as the cluster has it."""
    [found] = admin.describe_topics([name])
    return len(found["partitions"]), len(found["partitions"][0]["replica_nodes"])


def test_a_partners_document_holds_its_own_topics_as_the_cluster_has_them(
    world: World, settings: Settings, admin: Any
) -> None:
    org = world.scram
    document, text = world.document(org), world.texts[org]
    channels = document["channels"]
    assert {c["address"] for c in channels.values()} == {topics.inbound(org), topics.outbound(org)}
    assert set(re.findall(r"partner\.([a-z0-9-]+)\.(?:inbound|outbound)", text)) == {org}
    for other in world.orgs:
        if other != org:
            assert other not in text, f"{other} appears in {org}'s document"
    for channel, retention in (("inbound", INBOUND_RETENTION_MS), ("outbound", OUTBOUND_RETENTION_MS)):
        binding = channels[channel]["bindings"]["kafka"]
        assert (binding["partitions"], binding["replicas"]) == _topic(admin, binding["topic"])
        assert binding["topic"] == channels[channel]["address"]
        assert binding["topicConfiguration"]["retention.ms"] == retention
        assert binding["topicConfiguration"]["cleanup.policy"] == ["delete"]
    # the server and credentials a SCRAM partner uses, and nothing about certificates
    assert list(document["servers"]) == ["kafka"]
    assert document["servers"]["kafka"]["host"] == settings.bootstrap_servers()
    assert document["components"]["securitySchemes"] == {"scramSha512": {
        "type": "scramSha512", "description": document["components"]["securitySchemes"]["scramSha512"]["description"]}}
    # consumer groups: its own prefix only, as the ACLs say
    group = re.compile(document["operations"]["receiveDeliveries"]["bindings"]["kafka"]["groupId"]["pattern"])
    assert group.match(f"{org}.cms") and not group.match(f"{world.mtls}.cms") and not group.match(org)
    # send on inbound, receive on outbound; every message keyed, with CloudEvents headers
    assert document["operations"]["sendEvents"]["action"] == "send"
    assert document["operations"]["receiveDeliveries"]["action"] == "receive"
    sent = {ref["$ref"].rsplit("/", 1)[1] for ref in document["operations"]["sendEvents"]["messages"]}
    assert sent == set(channels["inbound"]["messages"]) and "case.escalated" not in sent and "cloudevent" in sent
    assert len(channels["outbound"]["messages"]) == 18  # it subscribes to everything
    for name, message in document["components"]["messages"].items():
        assert "key" in message["bindings"]["kafka"], name
        headers = message["headers"]["properties"]
        if name == "inbound.cloudevent":  # structured mode: the attributes are in the JSON value
            assert set(message["payload"]["required"]) == {"specversion", "id", "source", "type", "data"}
        elif name.startswith(("inbound.", "outbound.")):
            assert headers["ce_type"]["const"] == message["name"]
            assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_dataschema"} <= set(message["headers"]["required"])
            payload = message["payload"]["$ref"].rsplit("/", 1)[1]
            assert document["components"]["schemas"][payload]["schemaFormat"] == "application/vnd.apache.avro;version=1.9.0"
        if name.startswith("outbound."):
            assert headers["ce_casehubdisclosure"]["const"] == "full"


def test_an_mtls_partner_is_told_the_mtls_listener_and_its_certificate(world: World, settings: Settings) -> None:
    document = world.document(world.mtls)
    listener = local_cluster_security(settings.home)["mtls_bootstrap"]
    assert list(document["servers"]) == ["kafka-mtls"]
    assert document["servers"]["kafka-mtls"]["host"] == listener
    assert [s["$ref"] for s in document["servers"]["kafka-mtls"]["security"]] == ["#/components/securitySchemes/mtls"]
    assert {k: v["type"] for k, v in document["components"]["securitySchemes"].items()} == {"mtls": "X509"}
    for channel in document["channels"].values():
        assert channel["servers"] == [{"$ref": "#/servers/kafka-mtls"}]
    # it subscribes to reports and referrals; addressed types (a transfer to it, say) reach it whatever it subscribes
    received = set(document["channels"]["outbound"]["messages"])
    assert {"case.reported", "referral.requested", "referral.accepted", "case.transferred"} <= received
    assert "consent.recorded" not in received and "case.closed" not in received


def test_the_hubs_document_describes_topic_families_with_a_parameter(world: World) -> None:
    document = world.document("hub")
    addresses = {c["address"]: c for c in document["channels"].values()}
    assert {"partner.{org}.inbound", "partner.{org}.outbound", topics.CASES_EVENTS, topics.CASES_STATE, topics.HUB_DLQ,
            topics.HUB_AUDIT, topics.STATS_AGGREGATES} <= set(addresses)
    assert not [a for a in addresses if a.startswith("partner.") and "{org}" not in a]
    assert len(addresses) < 12  # families, not one channel per topic
    assert "org" in addresses["partner.{org}.outbound"]["parameters"]
    assert set(document["servers"]) == {"kafka", "kafka-mtls"}
    dead_letter = document["components"]["messages"]["dead-letter"]["headers"]
    assert {"hub.error.stage", "hub.error.reason", "hub.error.topic", "hub.error.offset"} <= set(dead_letter["required"])
    outbound = document["components"]["messages"]["outbound.case.closed"]
    assert outbound["headers"]["properties"]["ce_casehubdisclosure"]["enum"] == ["full", "pseudonymised"]
    assert len(outbound["bindings"]["kafka"]["key"]["oneOf"]) == 2  # a case id, or a partner's case reference


def _example(event_type: str) -> Any:
    data = json.loads((EXAMPLES / f"{event_type}.json").read_text())["data"]
    event = parse_event(data)
    if event_type != "case.reported":
        event = event.model_copy(update={"case_id": new_case_id("3A", datetime.now(UTC))})
    return event


def _headers(record: Any) -> dict[str, str]:
    return {name: value.decode() for name, value in record.headers}


def test_records_as_the_hub_writes_them_match_the_documented_keys_and_headers(world: World, settings: Settings) -> None:
    base = settings.public_base_url()
    sender = world.document(world.scram)["components"]["messages"]
    for event_type in ("case.reported", "case.triaged", "referral.requested"):
        record = encode_binary(_example(event_type), source=topics.event_source(world.scram), schema_base=base)
        message = sender[f"inbound.{event_type}"]
        Draft7Validator(message["headers"]).validate(_headers(record))
        Draft7Validator(message["bindings"]["kafka"]["key"]).validate(record.key.decode() if record.key else None)
    # what a pseudonymised partner receives: its own case reference as the key and subject, the level in a header
    receiver = world.document(world.pseudonymised)["components"]["messages"]
    event = _example("case.triaged")
    projection = project.project(event, source=topics.event_source(world.scram), recipient=world.pseudonymised,
                                 level="pseudonymised", may_see=frozenset(), pseudonyms=Pseudonyms.from_settings(settings))
    record = project.outbound_record(projection, "pseudonymised", schema_base=base)
    message = receiver["outbound.case.triaged"]
    Draft7Validator(message["headers"]).validate(_headers(record))
    Draft7Validator(message["bindings"]["kafka"]["key"]).validate(record.key.decode())
    assert record.key.decode() != event.case_id
    # the full-level case id is not what a pseudonymised partner is told to expect
    assert not Draft7Validator(message["bindings"]["kafka"]["key"]).is_valid(event.case_id)


def test_an_aggregate_partner_reads_counts_not_events(world: World) -> None:
    document = world.document(world.aggregate)
    assert {c["address"] for c in document["channels"].values()} == {
        topics.inbound(world.aggregate), topics.outbound(world.aggregate), topics.STATS_AGGREGATES}
    assert document["channels"]["outbound"]["messages"] == {}
    assert set(document["operations"]) == {"sendEvents", "receiveAggregates"}
    cell = document["components"]["messages"]["aggregate-cell"]["payload"]
    assert cell["properties"]["suppressed"]["type"] == "boolean"
