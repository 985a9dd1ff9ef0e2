"""The Kafka side of the documents: servers and their security schemes, and the topic plan as channel bindings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from casehub.connectors.asyncapi.headers import literal
from casehub.connectors.asyncapi.messages import KAFKA_BINDING_VERSION
from casehub.ops.topic_plan import TopicSpec

SCRAM_SERVER = "kafka"
MTLS_SERVER = "kafka-mtls"
SCRAM_SCHEME = "scramSha512"
MTLS_SCHEME = "mtls"
PROTOCOL = "kafka-secure"  # Kafka over TLS (AsyncAPI's protocol name); both listeners encrypt
_INTEGER = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")


@dataclass(frozen=True)
class Listeners:
    """Where partners connect: the SASL_SSL bootstrap, and the mTLS listener's if the cluster has one."""

    bootstrap: str
    mtls_bootstrap: str | None


def security_schemes(*, scram: bool, mtls: bool) -> dict[str, Any]:
    """components.securitySchemes: SCRAM-SHA-512 over TLS, and X.509 client certificates (mTLS)."""
    schemes: dict[str, Any] = {}
    if scram:
        schemes[SCRAM_SCHEME] = {
            "type": "scramSha512",
            "description": "SASL/SCRAM-SHA-512 over TLS (security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512). "
            "The username is the organisation id; an operator issues the password once with `casehub partners "
            "credentials ORG` (the cluster keeps only a salted hash; `--rotate` replaces it). Trust the hub's CA "
            "(PEM) for the brokers' certificates.",
        }
    if mtls:
        schemes[MTLS_SCHEME] = {
            "type": "X509",
            "description": "A client certificate issued by the hub's CA with subject CN=<org> (`casehub partners "
            "certificate ORG`), on the mTLS listener (security.protocol=SSL). The certificate's CN is the Kafka "
            "principal User:<org>.",
        }
    return schemes


def servers(listeners: Listeners, *, scram: bool, mtls: bool) -> dict[str, Any]:
    """The Kafka servers a client connects to; ``host`` is the whole bootstrap.servers list (comma-separated)."""
    found: dict[str, Any] = {}
    if scram:
        found[SCRAM_SERVER] = {
            "host": listeners.bootstrap,
            "protocol": PROTOCOL,
            "title": "Kafka, SASL_SSL with SCRAM-SHA-512",
            "description": f"bootstrap.servers={listeners.bootstrap}; security.protocol=SASL_SSL; "
            "sasl.mechanism=SCRAM-SHA-512; TLS with the hub's CA. Apache Kafka 4.x (KRaft); any Kafka client works.",
            "security": [{"$ref": f"#/components/securitySchemes/{SCRAM_SCHEME}"}],
        }
    if mtls and listeners.mtls_bootstrap:
        found[MTLS_SERVER] = {
            "host": listeners.mtls_bootstrap,
            "protocol": PROTOCOL,
            "title": "Kafka, SSL with a client certificate (mTLS)",
            "description": f"bootstrap.servers={listeners.mtls_bootstrap}; security.protocol=SSL; the client "
            "certificate and key from `casehub partners certificate ORG`; TLS with the hub's CA.",
            "security": [{"$ref": f"#/components/securitySchemes/{MTLS_SCHEME}"}],
        }
    return found


def _config_value(key: str, value: str) -> Any:
    if key == "cleanup.policy":
        return [part.strip() for part in value.split(",") if part.strip()]
    if _INTEGER.match(value):
        return int(value)
    if _DECIMAL.match(value):
        return float(value)
    return value


def channel_binding(spec: TopicSpec, *, family: bool = False, **extensions: Any) -> dict[str, Any]:
    """The Kafka channel binding of a planned topic: partitions, replicas, retention and cleanup as provisioned.

    ``family``: ``spec`` stands for every topic of a parameterised address (no single topic name); ``extensions``
    become ``x-`` fields (what differs between the family's topics).
    """
    binding: dict[str, Any] = {} if family else {"topic": spec.name}
    binding.update({
        "partitions": spec.partitions,
        "replicas": spec.replication,
        "topicConfiguration": {key: _config_value(key, value) for key, value in sorted(spec.configs.items())},
        "bindingVersion": KAFKA_BINDING_VERSION,
    })
    binding.update({f"x-{name.replace('_', '-')}": value for name, value in extensions.items()})
    return {"kafka": binding}


def consumer_binding(org: str | None) -> dict[str, Any]:
    """A receive operation's binding: the consumer group a partner may use (its ACLs allow ``<org>.*`` only)."""
    group: dict[str, Any]
    if org is None:
        group = {"type": "string", "pattern": r"^[^.]+\..+$",
                 "description": "A partner's consumer groups are named <org>.<anything>; the ACLs allow no other."}
    else:
        group = {"type": "string", "pattern": rf"^{literal(org)}\..+$",
                 "description": f"Your consumer groups must be named {org}.<anything> (e.g. {org}.cms); the ACLs "
                 "allow no other.", "examples": [f"{org}.cms"]}
    return {"kafka": {"groupId": group, "bindingVersion": KAFKA_BINDING_VERSION}}


def reader_binding(description: str) -> dict[str, Any]:
    """A hub topic reader's binding: which principals may read it."""
    return {"kafka": {"groupId": {"type": "string", "description": description},
                      "bindingVersion": KAFKA_BINDING_VERSION}}
