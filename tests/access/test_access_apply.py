"""`casehub access apply`, `partners credentials` and `partners certificate` against the secured test broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kafka import KafkaProducer

from casehub.access.acls import partner_grants, plan_grants
from casehub.access.apply import apply_access, current_grants, scram_users
from casehub.core import topics
from casehub.core.kafka_connection import KafkaConnection
from casehub.core.settings import Settings
from casehub.ops.topics import admin_client
from casehub.registry import load_registry, parse_registry
from casehub.registry.loader import default_registry_path
from casehub.registry.model import Disclosure
from tests.access_helpers import grant_partner
from tests.kafka_helpers import consume, create_topics

CASEHUB = Path(sys.executable).with_name("casehub")


def _registry_with(tmp_path: Path, *extra: dict) -> Path:
    document = yaml.safe_load(default_registry_path().read_text())
    document["partners"].extend(extra)
    path = tmp_path / "partners.yaml"
    path.write_text(json.dumps(document, ensure_ascii=False))
    return path


def _ngo(org: str, **more: object) -> dict:
    return {"id": org, "kind": "ngo", "name": {"th": org, "en": org}, "jurisdiction": {"provinces": ["84"]},
            "disclosure": "pseudonymised", **more}


def _cli(settings: Settings, registry: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASEHUB_HOME": str(settings.home), "CASEHUB_REGISTRY_PATH": str(registry),
           "CASEHUB_LOG_LEVEL": "WARNING"}
    return subprocess.run([str(CASEHUB), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_apply_grants_exactly_the_plan_removes_a_dropped_partner_and_a_second_apply_changes_nothing(
        settings: Settings, unique: str, tmp_path: Path) -> None:
    org = f"ngo-{unique}"
    path = _registry_with(tmp_path, _ngo(org))
    registry = parse_registry(path.read_text(), source=str(path))
    applied = apply_access(settings, registry)
    assert set(partner_grants(org, Disclosure.PSEUDONYMISED)) <= set(applied.acls_added)
    issued = _cli(settings, path, "partners", "credentials", org, "--json")
    assert issued.returncode == 0, issued.stderr
    assert set(json.loads(issued.stdout)) == {"org", "username", "password", "bootstrap", "security_protocol",
                                              "sasl_mechanism", "ca_pem"}

    again = apply_access(settings, registry)
    assert not again.changed, again.as_json()
    with admin_client(settings) as admin:
        grants, _ = current_grants(admin)
        assert plan_grants(registry, settings) <= grants
        assert org in scram_users(admin)

    # the partner leaves the registry: its user and every ACL go on the next apply
    default = load_registry(settings.model_copy(update={"registry_path": None}))
    removed = apply_access(settings, default)
    assert org in removed.users_removed
    assert set(partner_grants(org, Disclosure.PSEUDONYMISED)) <= set(removed.acls_removed)
    with admin_client(settings) as admin:
        grants, _ = current_grants(admin)
        assert not [g for g in grants if g.principal == org]
        assert org not in scram_users(admin)
    assert not apply_access(settings, default).changed


def test_credentials_are_shown_once_and_rotation_is_explicit(settings: Settings, unique: str, tmp_path: Path) -> None:
    org = f"ngo-{unique}"
    path = _registry_with(tmp_path, _ngo(org))
    first = _cli(settings, path, "partners", "credentials", org, "--json")
    assert first.returncode == 0, first.stderr
    creds = json.loads(first.stdout)
    assert creds["username"] == org and creds["security_protocol"] == "SASL_SSL" and "BEGIN CERTIFICATE" in creds["ca_pem"]
    # the hub keeps no plaintext partner password: not in its credential store, not in the cluster's own files
    secret = creds["password"].encode()
    assert not [p for p in settings.home.rglob("*") if p.is_file() and p.stat().st_size < 1e7 and secret in p.read_bytes()]

    twice = _cli(settings, path, "partners", "credentials", org)
    assert twice.returncode == 1
    assert twice.stderr.strip().splitlines() == [twice.stderr.strip()]  # one line, no traceback
    assert "already has Kafka credentials" in twice.stderr and "--rotate" in twice.stderr

    unknown = _cli(settings, path, "partners", "credentials", "ngo-nobody-here")
    assert unknown.returncode == 1 and "not in the partner registry" in unknown.stderr

    rotated = _cli(settings, path, "partners", "credentials", org, "--rotate", "--json")
    assert rotated.returncode == 0 and json.loads(rotated.stdout)["password"] != creds["password"]


def test_a_bad_password_gives_the_sdk_example_one_clear_line(settings: Settings, unique: str, tmp_path: Path) -> None:
    org = f"ngo-{unique}"
    create_topics(settings, topics.inbound(org))
    path = tmp_path / "creds.json"
    path.write_text(json.dumps({"org": org, "username": org, "password": "wrong", "bootstrap": settings.bootstrap_servers(),
                                "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                                "ca_pem": (settings.home / "tls" / "ca.pem").read_text()}))
    done = subprocess.run([sys.executable, "-m", "casehub.connectors.sdk.examples.produce_report", "--credentials", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert done.stdout.startswith("error: ") and len(done.stdout.strip().splitlines()) == 1, done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert "refused the credentials of " + org in done.stdout and "wrong or rotated password" in done.stdout, done.stdout


def test_an_mtls_partner_connects_with_its_certificate_as_itself(settings: Settings, unique: str, tmp_path: Path) -> None:
    org, other = f"hosp-{unique}", f"hosp-{unique}-b"
    path = _registry_with(tmp_path, {"id": org, "kind": "hospital", "name": {"th": org, "en": org},
                                     "jurisdiction": {"provinces": ["84"]}, "disclosure": "full", "auth": "mtls"})
    create_topics(settings, topics.inbound(org), topics.inbound(other))
    grant_partner(settings, org)
    refused = _cli(settings, path, "partners", "credentials", org)
    assert refused.returncode == 1 and "partners certificate" in refused.stderr

    pem = tmp_path / f"{org}.pem"
    issued = _cli(settings, path, "partners", "certificate", org, "--out", str(pem), "--json")
    assert issued.returncode == 0, issued.stderr
    document = json.loads(issued.stdout)
    assert document["security_protocol"] == "SSL" and document["bootstrap"]
    assert oct(pem.stat().st_mode & 0o777) == "0o600"

    conn = KafkaConnection(bootstrap=document["bootstrap"], security_protocol="SSL",
                           ca_file=settings.home / "tls" / "ca.pem", cert_file=pem)
    producer = KafkaProducer(**conn.kafka_python(), acks="all", max_block_ms=20_000, request_timeout_ms=10_000)
    try:
        producer.send(topics.inbound(org), value=b"over mtls").get(timeout=20)
        with pytest.raises(Exception) as other_topic:
            producer.send(topics.inbound(other), value=b"not mine").get(timeout=20)
        assert "Authorization" in type(other_topic.value).__name__
    finally:
        producer.close(timeout=5)
    assert [r.value for r in consume(settings, topics.inbound(org), expect=1)] == [b"over mtls"]

    # without a certificate the mTLS listener refuses the connection
    anonymous = KafkaConnection(bootstrap=document["bootstrap"], security_protocol="SSL", ca_file=settings.home / "tls" / "ca.pem")
    with pytest.raises(Exception):  # noqa: B017 - kafka-python names the handshake failure differently across versions
        KafkaProducer(**anonymous.kafka_python(), max_block_ms=8_000).send(topics.inbound(org), value=b"x").get(timeout=10)
