"""A partner's consumer written in Java with Kafka's client and Apache Avro only (examples/java): built with Maven,
run against the real broker, it decodes every delivery with the schema its ce_dataschema URL serves and prints
what the hub delivered."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
import pytest

from casehub.broker.runtime import AVRO_VERSION, KAFKA_VERSION, java_binary, maven_binary
from casehub.core import topics
from casehub.core.settings import Settings
from casehub.schemas import avro_schema_url, parse_dataschema
from casehub.schemas.publish import published_path
from tests.access_helpers import credentials_file
from tests.connectors.gateway.server import GatewayServer, gateway_settings
from tests.streams.conftest import Hub, start_hub, workdir_for
from tests.streams.harness import free_port, header, partner, publish, read_until, report, with_ids

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "java"
JAR = "casehub-outbound-consumer.jar"
WAIT = 120.0


def build(settings: Settings, folder: Path) -> Path:
    """``mvn package`` of a copy of the example (nothing is written into the work tree); Maven's repository is
    cached under the cache folder, so a later build runs offline; the first one fetches from Maven Central."""
    shutil.copytree(PROJECT / "src", folder / "src")
    shutil.copy(PROJECT / "pom.xml", folder / "pom.xml")
    repository = settings.cache_dir / "maven-repository"
    online = [maven_binary(), "-B", "-q", f"-Dmaven.repo.local={repository}", "-f", str(folder / "pom.xml"), "package"]
    attempts = [[online[0], "-o", *online[1:]], online] if repository.exists() else [online]
    output = ""
    for command in attempts:
        result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode == 0:
            return folder / "target" / JAR
        output = (result.stdout + result.stderr)[-3000:]
    raise AssertionError(f"mvn package failed:\n{output}")


@dataclass
class Stack:
    hub: Hub
    gateway: GatewayServer
    hospital: str


@pytest.fixture(scope="module")
def stack(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A worker and a gateway sharing one CASEHUB_PUBLIC_URL (the gateway's address), and a hospital partner."""
    hospital = "hosp-j" + uuid.uuid4().hex[:8]
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    workdir = workdir_for(settings)
    extra = [partner(hospital, "hospital", {"provinces": ["84"]}, "full", ["case.reported"], ["children_youth"])]
    hub = start_hub(settings, workdir, {"CASEHUB_PUBLIC_URL": public_url}, extra_partners=extra)
    gateway = GatewayServer(gateway_settings(settings, workdir / "gateway", hub.worker.registry_path, public_url=public_url),
                            hub.registry, port=port)
    try:
        gateway.start()
        yield Stack(hub, gateway, hospital)
    finally:
        gateway.stop()
        hub.worker.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _without_logical_types(node: Any) -> Any:
    """The schema as Avro holds the data: timestamps as epoch milliseconds, dates as days (what Java prints)."""
    if isinstance(node, dict):
        return {k: _without_logical_types(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [_without_logical_types(item) for item in node]
    return node


def _as_delivered(record: Any) -> dict[str, Any]:
    """What the hub delivered, decoded in Python with the published schema its ce_dataschema names."""
    dataschema = (header(record, "ce_dataschema") or b"").decode()
    event_type, version = parse_dataschema(dataschema)
    schema = json.loads(published_path(event_type, version).read_text(encoding="utf-8"))
    raw = fastavro.parse_schema(_without_logical_types(schema), named_schemas={})
    return {
        "partition": record.partition, "offset": record.offset, "key": record.key.decode() if record.key else None,
        "ce_type": (header(record, "ce_type") or b"").decode(), "ce_id": (header(record, "ce_id") or b"").decode(),
        "ce_dataschema": dataschema, "data": fastavro.schemaless_reader(io.BytesIO(record.value), raw, None),
    }


def _position(line: dict[str, Any]) -> tuple[int, int]:
    return line["partition"], line["offset"]


def _printed(stdout: str) -> list[dict[str, Any]]:
    return sorted((json.loads(line) for line in stdout.splitlines()), key=_position)


def _without_topic(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in line.items() if k != "topic"} for line in lines]


def _run(jar: Path, credentials: Path, group: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([java_binary(), "-jar", str(jar), "--credentials", str(credentials), "--group", group,
                           "--until-end", "--timeout", "120"], capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.timeout(1200)
def test_the_java_consumer_prints_every_delivery_decoded_with_the_schema_its_dataschema_names(
    settings: Settings, stack: Stack, tmp_path: Path, unique: str
) -> None:
    jar = build(settings, tmp_path / "build")
    reports = [report() for _ in range(3)]
    publish(settings, stack.hub.lao, reports[:2])
    publish(settings, stack.hub.lao, reports[2:], structured=True)  # whatever the partner sent, Avro comes out
    ids = {event.id for event in reports}
    outbound = topics.outbound(stack.hospital)
    delivered = with_ids(read_until(settings, [outbound], done=lambda rs: len(with_ids(rs, ids)) >= len(ids),
                                    timeout=WAIT, since=0), ids)
    assert len(delivered) == len(ids)
    for record in delivered:  # the worker names the schema under CASEHUB_PUBLIC_URL, where the gateway serves it
        assert header(record, "ce_dataschema") == avro_schema_url(stack.gateway.url, "case.reported").encode()

    credentials = credentials_file(settings, stack.hospital, tmp_path)
    first = _run(jar, credentials, f"java-{unique}")
    assert first.returncode == 0, first.stderr[-3000:]
    printed = _printed(first.stdout)
    assert _without_topic(printed) == sorted(map(_as_delivered, delivered), key=_position)
    assert {line["topic"] for line in printed} == {outbound}
    assert {line["data"]["subject"]["citizen_id"] for line in printed} == {e.subject.citizen_id for e in reports}  # type: ignore[attr-defined]
    assert re.search(r"3 record\(s\) from \S+, 1 writer schema\(s\) fetched", first.stderr), first.stderr[-2000:]

    again = _run(jar, credentials, f"java-{unique}")  # the same group: its offsets were committed
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout == ""

    # a pseudonymised partner's copies (its own references, no names) decode the same way
    ngo_outbound = read_until(settings, [topics.outbound(stack.hub.ngo)], done=lambda rs: len(rs) >= len(ids),
                              timeout=WAIT, since=0)
    ngo = _run(jar, credentials_file(settings, stack.hub.ngo, tmp_path, "pseudonymised"), f"java-{unique}")
    assert ngo.returncode == 0, ngo.stderr[-3000:]
    assert _without_topic(_printed(ngo.stdout)) == sorted(map(_as_delivered, ngo_outbound), key=_position)
    for line in _printed(ngo.stdout):
        assert line["key"].startswith("case-v1-") and line["data"]["subject"]["citizen_id"] is None


def test_the_example_builds_against_the_kafka_and_avro_releases_casehub_uses() -> None:
    pom = (PROJECT / "pom.xml").read_text(encoding="utf-8")
    assert f"<kafka.version>{KAFKA_VERSION}</kafka.version>" in pom
    assert f"<avro.version>{AVRO_VERSION}</avro.version>" in pom
    assert re.findall(r"<artifactId>([\w-]+)</artifactId>\s*<version>\$", pom) == ["kafka-clients", "avro"]
