"""What every document starts from: the registry, the topic plan, the listeners, the hub's URL; info and rendering."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import yaml

from casehub.connectors.asyncapi.exceptions import ListenerUnknown
from casehub.connectors.asyncapi.kafka import Listeners
from casehub.core.kafka_connection import mtls_bootstrap, partner_bootstrap
from casehub.core.settings import Settings
from casehub.ops.topic_plan import TopicSpec, plan_topics
from casehub.registry import Partner, Registry

ASYNCAPI_VERSION = "3.0.0"
Format = Literal["yaml", "json"]


@dataclass(frozen=True)
class Context:
    """Everything a document describes, computed once: no cluster is asked anything while it is built."""

    registry: Registry
    plan: dict[str, TopicSpec]
    listeners: Listeners
    schema_base: str
    brokers: int

    def spec(self, topic: str) -> TopicSpec:
        return self.plan[topic]

    def require_mtls(self, partner: Partner) -> None:
        """An mTLS partner's document needs the address of the mTLS listener."""
        if partner.auth == "mtls" and not self.listeners.mtls_bootstrap:
            raise ListenerUnknown(
                f"{partner.id} authenticates with a client certificate, but the mTLS listener's address is not known",
                hint="set CASEHUB_KAFKA_MTLS_BOOTSTRAP (the local cluster's is read from <home>/broker/security.json)",
            )


def listeners_of(settings: Settings) -> Listeners:
    """The addresses partners connect to: the bootstrap, and the mTLS listener (setting, else the local cluster's)."""
    return Listeners(partner_bootstrap(settings), mtls_bootstrap(settings))


def context(settings: Settings, registry: Registry, *, brokers: int) -> Context:
    """The context of documents about a cluster of ``brokers`` brokers (replicas follow the topic plan's rule)."""
    plan = {spec.name: spec for spec in plan_topics(registry, settings, brokers)}
    return Context(registry, plan, listeners_of(settings), settings.public_base_url(), brokers)


def package_version() -> str:
    """casehub's version (the document's info.version)."""
    try:
        return version("casehub")
    except PackageNotFoundError:
        return "0.0.0"


def info(title: str, description: str) -> dict[str, Any]:
    return {
        "title": title,
        "version": package_version(),
        "description": description,
        "tags": [{"name": "casehub"}, {"name": "CloudEvents"}, {"name": "Avro"}],
    }


class _Dumper(yaml.SafeDumper):
    """YAML a person reads: no anchors for repeated parts, multi-line text as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def render(document: dict[str, Any], fmt: Format) -> str:
    """The document as YAML (Thai text as it is) or JSON."""
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    text: str = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)
    return text
