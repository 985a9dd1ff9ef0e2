"""One connection configuration, rendered for kafka-python, aiokafka and faust: the three never drift apart."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr

from casehub.access.tls import ensure_ca, tls_files
from casehub.core.errors import ConfigError
from casehub.core.kafka_connection import (
    connection,
    local_security_file,
    mtls_bootstrap,
    partner_bootstrap,
    write_local_password,
)
from casehub.core.settings import Settings


def _local_home(tmp_path: Path, protocol: str = "SASL_SSL") -> Settings:
    settings = Settings(home=tmp_path, kafka_bootstrap="127.0.0.1:29092,127.0.0.1:29094")
    local_security_file(tmp_path).parent.mkdir(parents=True)
    local_security_file(tmp_path).write_text(json.dumps({"security_protocol": protocol}))
    ensure_ca(tls_files(tmp_path))
    write_local_password(settings, "casehub-worker", "s3cret")
    return settings


def test_kafka_python_aiokafka_and_faust_get_the_same_connection(tmp_path: Path) -> None:
    conn = connection(_local_home(tmp_path), "worker")
    kp, aio, fst = conn.kafka_python(), conn.aiokafka(), conn.faust()
    credentials = fst["broker_credentials"]

    assert kp["bootstrap_servers"] == aio["bootstrap_servers"].split(",") == [b.removeprefix("kafka://") for b in fst["broker"]]
    assert kp["security_protocol"] == aio["security_protocol"] == credentials.protocol.value == "SASL_SSL"
    assert kp["sasl_mechanism"] == aio["sasl_mechanism"] == credentials.mechanism.value == "SCRAM-SHA-512"
    assert kp["sasl_plain_username"] == aio["sasl_plain_username"] == credentials.username == "casehub-worker"
    assert kp["sasl_plain_password"] == aio["sasl_plain_password"] == credentials.password == "s3cret"
    assert kp["ssl_cafile"] == str(tmp_path / "tls" / "ca.pem")
    for context in (aio["ssl_context"], credentials.ssl_context):
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert any("casehub development CA" in str(cert.get("subject")) for cert in context.get_ca_certs())
    assert kp["ssl_check_hostname"] is True


def test_each_service_connects_as_its_own_principal_and_missing_credentials_say_what_to_run(tmp_path: Path) -> None:
    settings = _local_home(tmp_path)
    assert connection(settings, "worker").username == "casehub-worker"
    with pytest.raises(ConfigError) as missing:
        connection(settings, "gateway")
    assert "no Kafka credentials for casehub-gateway" in str(missing.value)
    assert "casehub access apply" in str(missing.value)


def test_explicit_settings_win_over_the_local_files(tmp_path: Path) -> None:
    settings = _local_home(tmp_path).model_copy(update={
        "kafka_sasl_username": "casehub-worker-prod", "kafka_sasl_password": SecretStr("from-env"),
        "kafka_ssl_cafile": Path("/etc/agency/ca.pem"),
    })
    conn = connection(settings, "worker")
    assert (conn.username, conn.password, conn.ca_file) == ("casehub-worker-prod", "from-env", Path("/etc/agency/ca.pem"))


def test_an_insecure_local_cluster_is_plaintext_without_credentials(tmp_path: Path) -> None:
    settings = _local_home(tmp_path, protocol="PLAINTEXT")
    conn = connection(settings, "gateway")
    assert conn.kafka_python() == {"bootstrap_servers": ["127.0.0.1:29092", "127.0.0.1:29094"], "security_protocol": "PLAINTEXT"}
    assert conn.faust()["broker_credentials"] is None


def test_the_mtls_listener_partners_are_told_is_the_setting_else_the_local_clusters(tmp_path: Path) -> None:
    settings = _local_home(tmp_path)
    assert mtls_bootstrap(settings) is None
    local_security_file(tmp_path).write_text(json.dumps({"security_protocol": "SASL_SSL", "mtls_bootstrap": "127.0.0.1:29096"}))
    assert mtls_bootstrap(settings) == "127.0.0.1:29096"
    deployed = settings.model_copy(update={"kafka_mtls_bootstrap": "kafka-1:9094,kafka-2:9094"})
    assert mtls_bootstrap(deployed) == "kafka-1:9094,kafka-2:9094"


def test_partners_are_told_their_own_address_when_one_is_set() -> None:
    settings = Settings(kafka_bootstrap="kafka-1:9092,kafka-2:9092")
    assert partner_bootstrap(settings) == "kafka-1:9092,kafka-2:9092"
    public = settings.model_copy(update={"kafka_partner_bootstrap": "kafka.casehub.example:9092"})
    assert partner_bootstrap(public) == "kafka.casehub.example:9092"
