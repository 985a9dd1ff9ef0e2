"""GET /v1/asyncapi on a real gateway: the caller's own channels, as its API key says who it is; 401 without a key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from casehub.core import topics
from casehub.core.settings import Settings
from tests.connectors.asyncapi.validator import ensure_cli, validate
from tests.connectors.gateway.conftest import Running

pytestmark = pytest.mark.timeout(1200)  # the first run installs @asyncapi/cli from npm (2-3 minutes)


def test_a_partner_reads_the_document_of_its_own_channels(running: Running, settings: Settings, admin: Any,
                                                         tmp_path: Path) -> None:
    orgs = running.orgs
    with running.gateway.client(orgs.lao) as client:
        answer = client.get("/v1/asyncapi")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    document = answer.json()
    assert {c["address"] for c in document["channels"].values()} == {topics.inbound(orgs.lao), topics.outbound(orgs.lao)}
    assert set(re.findall(r"partner\.([a-z0-9-]+)\.(?:inbound|outbound)", answer.text)) == {orgs.lao}
    assert orgs.ngo not in answer.text and orgs.far not in answer.text
    for channel in document["channels"].values():
        binding = channel["bindings"]["kafka"]
        [found] = admin.describe_topics([binding["topic"]])
        assert binding["partitions"] == len(found["partitions"])
        assert binding["replicas"] == len(found["partitions"][0]["replica_nodes"])
    assert document["servers"]["kafka"]["host"] == running.gateway.settings.bootstrap_servers()
    assert document["info"]["title"].endswith(orgs.lao)
    # the AsyncAPI project's own CLI accepts what the gateway serves
    path = tmp_path / "lao.json"
    path.write_text(answer.text)
    result = validate(ensure_cli(settings.cache_dir), path, tmp_path)
    assert result.returncode == 0 and result.errors == [], json.dumps(result.diagnostics, indent=1)[:4000]


def test_a_pseudonymised_partner_gets_its_level_and_the_same_document_as_yaml(running: Running) -> None:
    ngo = running.orgs.ngo
    with running.gateway.client(ngo) as client:
        as_json = client.get("/v1/asyncapi")
        as_yaml = client.get("/v1/asyncapi", params={"format": "yaml"})
    assert as_yaml.status_code == 200 and as_yaml.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(as_yaml.text)
    assert document == as_json.json()
    messages = document["components"]["messages"]
    delivered = document["channels"]["outbound"]["messages"]
    # it subscribes to case.reported; types that name their recipient reach it too
    assert "case.reported" in delivered and "referral.requested" in delivered and "case.closed" not in delivered
    reported = messages["outbound.case.reported"]
    assert reported["headers"]["properties"]["ce_casehubdisclosure"]["const"] == "pseudonymised"
    assert reported["bindings"]["kafka"]["key"]["pattern"].startswith("^case-v")


@pytest.mark.parametrize("key", [None, "chk_not-a-key-anyone-was-given"])
def test_without_a_valid_key_there_is_no_document(running: Running, key: str | None) -> None:
    with running.gateway.client(key=key) as client:
        answer = client.get("/v1/asyncapi")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "channels" not in answer.text
