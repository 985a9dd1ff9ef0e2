"""docker/ stays consistent with the code: the same Kafka release, real setting names, real CLI verbs, and the
cluster secured as `casehub broker up` secures the local one (SASL_SSL + SCRAM, mTLS, ACLs, no PLAINTEXT)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from casehub.broker.config import NodeSpec, Security, listener_properties
from casehub.broker.runtime import KAFKA_VERSION
from casehub.cli.main import COMMANDS
from casehub.core.kafka_connection import principal_of
from casehub.core.settings import Settings

COMPOSE = Path(__file__).parents[2] / "docker" / "compose.yaml"
ADMIN = principal_of("admin")
SETUP_VERBS = {"topics", "access"}  # one-off operator steps: the only hub services that run as the super user
# what compose substitutes for ${VAR...} in these tests
SAMPLE_ENV = {
    "CASEHUB_KAFKA_ADMIN_PASSWORD": "admin-secret_1",
    "CASEHUB_WORKER_KAFKA_PASSWORD": "worker-secret",
    "CASEHUB_GATEWAY_KAFKA_PASSWORD": "gateway-secret",
    "CASEHUB_WEBHOOKS_KAFKA_PASSWORD": "webhooks-secret",
    "CASEHUB_AUDITOR_KAFKA_PASSWORD": "auditor-secret",
    "CASEHUB_PSEUDONYM_KEY": "pseudonym-secret",
    "CASEHUB_MASTER_KEY": "11" * 32,
    "CASEHUB_PUBLIC_URL": "https://casehub.example.go.th",
}


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


# ---- what compose and the apache/kafka image make of the file ------------------------------------------
_DOLLAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?[?-][^}]*)?\}"
                     r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*)|(?P<invalid>))")


def _variables(value: str) -> list[str]:
    """The compose variables ``value`` refers to; a ``$`` that is neither ``$$`` nor a variable is an error."""
    names = []
    for match in _DOLLAR.finditer(value):
        assert match.group("invalid") is None, f"unescaped $ in {value!r}: compose rejects it (write $$)"
        if match.group("braced") or match.group("named"):
            names.append(match.group("braced") or match.group("named"))
    return names


def _interpolate(value: object) -> str:
    """``value`` as the container sees it, with the variables of SAMPLE_ENV."""
    text = str(value)
    _variables(text)
    return _DOLLAR.sub(lambda m: "$" if m.group("escaped") else SAMPLE_ENV[m.group("braced") or m.group("named")], text)


def _server_properties(env: dict[str, object]) -> dict[str, str]:
    """The image's KafkaDockerWrapper: KAFKA_X_Y=v is x.y=v; '___' is '-', '__' is '_'."""
    props = {}
    for key, value in env.items():
        if key.startswith("KAFKA_"):
            name = key.removeprefix("KAFKA_").lower().replace("_", ".").replace("...", "-").replace("..", "_")
            props[name] = _interpolate(value)
    return props


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def _brokers(services: dict) -> dict[str, dict]:
    return {name: s for name, s in services.items() if s.get("image", "").startswith("apache/kafka:") and "hostname" in s}


def _hub_services(services: dict) -> dict[str, dict]:
    return {name: s for name, s in services.items() if s.get("image") == "casehub:latest"}


def _binds(service: dict) -> list[dict]:
    return [v for v in service.get("volumes", []) if isinstance(v, dict) and v.get("type") == "bind"]


def _named_volumes(service: dict, compose: dict) -> list[str]:
    names = [v.split(":")[0] if isinstance(v, str) else v.get("source") for v in service.get("volumes", [])
             if isinstance(v, str) or v.get("type") == "volume"]
    return [n for n in names if n in (compose.get("volumes") or {})]


# ---- the release, settings and verbs ---------------------------------------------------------------------
def test_brokers_run_the_release_the_project_pins() -> None:
    services = _compose()["services"]
    kafka_images = {s["image"] for name, s in services.items() if name.startswith("kafka-")}
    assert kafka_images == {f"apache/kafka:{KAFKA_VERSION}"}
    assert len(_brokers(services)) == 3


def test_hub_services_use_only_settings_the_code_reads() -> None:
    known = {f"CASEHUB_{name.upper()}" for name in Settings.model_fields}
    for name, service in _compose()["services"].items():
        env = service.get("environment") or {}
        used = {key for key in env if key.startswith("CASEHUB_")}
        assert used <= known, f"{name} sets unknown settings {used - known}"


def test_hub_services_run_real_cli_verbs() -> None:
    for name, service in _compose()["services"].items():
        if service.get("image") == "casehub:latest":
            assert service["command"][0] in COMMANDS, f"{name} runs unknown verb {service['command'][0]}"


def test_each_worker_keeps_its_tables_in_a_volume_of_its_own() -> None:
    compose = _compose()
    services = compose["services"]
    workers = {name: s for name, s in services.items() if s.get("command") == ["worker"]}
    assert len(workers) == 2
    assert all("replicas" not in (s.get("deploy") or {}) for s in workers.values())  # replicas would share a volume
    volumes = [v for s in workers.values() for v in _named_volumes(s, compose)]
    assert len(set(volumes)) == len(volumes) == len(workers)
    instances = [s["environment"]["CASEHUB_WORKER_INSTANCE_ID"] for s in workers.values()]
    assert len(set(instances)) == len(workers)


def test_every_dollar_is_a_variable_or_escaped() -> None:
    for text in _strings(_compose()):
        for name in _variables(text):
            assert name in SAMPLE_ENV, f"{name} is not one of the variables the header documents"


# ---- the brokers -----------------------------------------------------------------------------------------
def test_brokers_are_secured_like_the_local_cluster() -> None:
    """Every listener, TLS, SASL and authorizer property of the local secure cluster, with the container's paths."""
    node = NodeSpec(node_id=1, broker_port=9092, controller_port=9093, mtls_port=9094,
                    data_dir=Path("unused"), log_dir=Path("unused"), config_file=Path("unused"))
    security = Security(secure=True, keystore=Path("/etc/kafka/secrets/broker.pem"),
                        truststore=Path("/etc/kafka/secrets/ca.pem"), admin_user=ADMIN,
                        admin_password=SAMPLE_ENV["CASEHUB_KAFKA_ADMIN_PASSWORD"])
    local = {key: str(value) for key, value in listener_properties(node, security).items()}
    without_hosts = {"listeners", "advertised.listeners"}
    for name, broker in _brokers(_compose()["services"]).items():
        props = _server_properties(broker["environment"])
        for key, value in local.items():
            assert key in props, f"{name} lacks {key}"
            if key in without_hosts:  # the local cluster binds loopback; a container binds all, advertises its name
                assert re.sub(r"//[^:/]*:", "//:", props[key]) == re.sub(r"//[^:/]*:", "//:", value), f"{name}: {key}"
            else:
                assert props[key] == value, f"{name}: {key}"
        assert props["advertised.listeners"] == f"CLIENT://{name}:9092,MTLS://{name}:9094"


def test_every_broker_authorizes_authenticates_and_never_listens_in_plaintext() -> None:
    services = _compose()["services"]
    for name, broker in _brokers(services).items():
        props = _server_properties(broker["environment"])
        assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer", name
        assert props["allow.everyone.if.no.acl.found"] == "false", name
        assert props["super.users"] == f"User:{ADMIN}", name
        protocols = dict(pair.split(":") for pair in props["listener.security.protocol.map"].split(","))
        assert protocols == {"CLIENT": "SASL_SSL", "CONTROLLER": "SASL_SSL", "MTLS": "SSL"}, name
        assert props["inter.broker.listener.name"] == "CLIENT", name
        assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512", name
        assert props["listener.name.mtls.ssl.client.auth"] == "required", name
    for text in _strings(services):
        assert "PLAINTEXT" not in text, f"PLAINTEXT in {text!r}"


def test_brokers_read_their_key_store_from_the_secrets_folder_read_only() -> None:
    services = _compose()["services"]
    for name, broker in _brokers(services).items():
        props = _server_properties(broker["environment"])
        mounts = {b["target"]: b for b in _binds(broker)}
        secrets = mounts["/etc/kafka/secrets"]
        assert secrets["source"] == "./secrets" and secrets["read_only"] is True, name
        assert secrets.get("bind", {}).get("create_host_path") is False, name  # a missing folder fails, never empty
        for key in ("ssl.keystore.location", "ssl.truststore.location"):
            assert props[key].startswith("/etc/kafka/secrets/"), f"{name}: {key}"


def test_brokers_keep_their_data_in_their_volume() -> None:
    compose = _compose()
    for name, broker in _brokers(compose["services"]).items():
        data = _server_properties(broker["environment"])["log.dirs"]
        assert [v for v in broker["volumes"] if isinstance(v, str)] == [f"{name}:{data}"], name


def test_storage_is_formatted_with_the_scram_users_before_any_broker_starts() -> None:
    """The image formats without SCRAM users; a one-off service per volume adds them, the broker waits for it."""
    services = _compose()["services"]
    usernames = {s["environment"]["CASEHUB_KAFKA_SASL_USERNAME"] for s in _hub_services(services).values()}
    for name, broker in _brokers(services).items():
        (init, condition), = broker["depends_on"].items()
        assert condition == {"condition": "service_completed_successfully"}, name
        formatter = services[init]
        assert formatter["image"] == broker["image"], name
        assert formatter["volumes"] == broker["volumes"], name
        assert {k: v for k, v in formatter["environment"].items() if k.startswith(("KAFKA_", "CLUSTER_ID"))} == \
            broker["environment"], f"{init} formats with another configuration than {name} runs"
        script = _interpolate(" ".join(formatter["command"]))
        assert "kafka-storage.sh format" in script, init
        added = set(re.findall(r"--add-scram \"SCRAM-SHA-512=\[name=([a-z0-9-]+),password=\$(\w+)\]\"", script))
        assert {user for user, _ in added} == usernames | {ADMIN}, init
        # each user's password is the one its services log in with
        passwords = {user: _interpolate(formatter["environment"][var]) for user, var in added}
        assert passwords[ADMIN] == SAMPLE_ENV["CASEHUB_KAFKA_ADMIN_PASSWORD"]
        for hub in _hub_services(services).values():
            env = hub["environment"]
            assert passwords[env["CASEHUB_KAFKA_SASL_USERNAME"]] == _interpolate(env["CASEHUB_KAFKA_SASL_PASSWORD"])


# ---- the hub services ------------------------------------------------------------------------------------
def test_hub_services_connect_over_sasl_ssl_trusting_the_ca() -> None:
    services = _compose()["services"]
    for name, service in _hub_services(services).items():
        env = service["environment"]
        assert env["CASEHUB_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["CASEHUB_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", name
        assert env["CASEHUB_KAFKA_SASL_USERNAME"], name
        assert _variables(str(env["CASEHUB_KAFKA_SASL_PASSWORD"])), f"{name}: a password belongs in the environment"
        ca = {b["target"]: b for b in _binds(service)}[env["CASEHUB_KAFKA_SSL_CAFILE"]]
        assert ca["source"] == "./secrets/ca.pem" and ca["read_only"] is True, name
        assert all(b["source"] != "./secrets" for b in _binds(service)), f"{name} must not see the brokers' key"


def test_each_long_running_service_has_its_own_principal_and_only_setup_steps_are_super_user() -> None:
    services = _compose()["services"]
    by_verb: dict[str, set[str]] = {}
    for name, service in _hub_services(services).items():
        verb = service["command"][0]
        user = service["environment"]["CASEHUB_KAFKA_SASL_USERNAME"]
        by_verb.setdefault(verb, set()).add(user)
        if verb in SETUP_VERBS:
            assert user == ADMIN, name
            assert "setup" in service.get("profiles", []), f"{name} is a one-off step, not a long-running service"
        else:
            assert user != ADMIN, f"{name} is long-running and must not run as the super user"
    assert all(len(users) == 1 for users in by_verb.values()), by_verb  # workers of one group share casehub-worker
    long_running = [next(iter(users)) for verb, users in by_verb.items() if verb not in SETUP_VERBS]
    assert len(long_running) == len(set(long_running)), by_verb
    assert by_verb["worker"] == {principal_of("worker")}
    assert by_verb["gateway"] == {principal_of("gateway")}
    assert by_verb["webhooks"] == {principal_of("webhooks")}
    assert by_verb["audit"] == {principal_of("auditor")}


def test_access_apply_runs_as_a_setup_step() -> None:
    services = _compose()["services"]
    assert services["access"]["command"] == ["access", "apply"]
    assert services["topics"]["command"] == ["topics", "apply"]
