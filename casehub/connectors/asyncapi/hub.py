"""The whole hub's AsyncAPI document: the partner topic families as parameterised channels, and the hub's topics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from casehub.connectors.asyncapi import kafka, messages, payloads
from casehub.connectors.asyncapi.base import ASYNCAPI_VERSION, Context, info
from casehub.connectors.asyncapi.messages import Level
from casehub.connectors.asyncapi.partner import STRUCTURED, sendable_types
from casehub.core import topics
from casehub.ops.topic_plan import TopicSpec
from casehub.schemas.loader import EVENT_TYPES

BOTH_LEVELS: tuple[Level, ...] = ("full", "pseudonymised")
HUB_READERS = "The hub's own services and operators (`casehub tail`, `replay`, `dlq`); no partner."


@dataclass(frozen=True)
class HubTopic:
    """How the document describes one of the hub's own topics."""

    channel: str
    title: str
    readers: str
    messages: Callable[[], dict[str, dict[str, Any]]]


def _canonical(ctx: Context) -> dict[str, dict[str, Any]]:
    return {f"canonical.{t}": messages.event_message(t, "canonical", levels=("full",), schema_base=ctx.schema_base)
            for t in EVENT_TYPES}


def _known(ctx: Context) -> dict[str, HubTopic]:
    return {
        topics.CASES_EVENTS: HubTopic("casesEvents", "The canonical case events", HUB_READERS,
                                      lambda: _canonical(ctx)),
        topics.CASES_STATE: HubTopic("casesState", "The current state of every case", HUB_READERS,
                                     lambda: {"case-state": messages.case_state_message()}),
        topics.HUB_DLQ: HubTopic("hubDlq", "Dead letters", HUB_READERS,
                                 lambda: {"dead-letter": messages.dead_letter_message(),
                                          "redrive-marker": messages.redrive_marker_message()}),
        topics.HUB_AUDIT: HubTopic("hubAudit", "The disclosure log", HUB_READERS,
                                   lambda: {"audit-record": messages.audit_message()}),
        topics.STATS_AGGREGATES: HubTopic(
            "statsAggregates", "Counts per tambon, issue category and month",
            "Aggregate-level partners (with groups named <org>.*), the hub's services and operators.",
            lambda: {"aggregate-cell": messages.aggregate_message()}),
    }


def _other_topic(spec: TopicSpec) -> HubTopic:
    """A hub topic this module has no closer description of: its plan's purpose says what it holds."""

    def described() -> dict[str, dict[str, Any]]:
        return {spec.name: messages.hub_record_message(spec.name, spec.purpose)}

    return HubTopic(_channel_id(spec.name), spec.purpose, HUB_READERS, described)


def _channel_id(topic: str) -> str:
    first, *rest = topic.replace("-", ".").split(".")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _family(ctx: Context, name: Callable[[str], str]) -> tuple[TopicSpec, dict[str, int]]:
    """The usual spec of one partner topic family, and the organisations whose partition count differs."""
    specs = {org: ctx.spec(name(org)) for org in ctx.registry.partners}
    usual = Counter(spec.partitions for spec in specs.values()).most_common(1)[0][0]
    different = {org: spec.partitions for org, spec in sorted(specs.items()) if spec.partitions != usual}
    sample = next(spec for spec in specs.values() if spec.partitions == usual)
    return sample, different


def _org_parameter(ctx: Context) -> dict[str, Any]:
    examples = [org for org in ("hotline-1300", "msdhs-hq", "pso-50", "tc-500101", "hosp-nakornping")
                if org in ctx.registry.partners] or sorted(ctx.registry.partners)[:3]
    return {"description": f"An organisation id of the partner registry ({len(ctx.registry.partners)} partners; "
            "`casehub partners list`): msdhs-hq, hotline-1300, pso-<PP>, tc-<TTTTTT>, lao-/hosp-/police-/ngo-/"
            f"private-<slug>; pattern {topics.ORG_ID.pattern}. `casehub partners asyncapi ORG` writes one partner's "
            "own document.", "examples": examples}


def _refs(channel: str, names: list[str]) -> list[dict[str, str]]:
    return [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in names]


def hub_document(ctx: Context) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic: partner families with an ``{org}`` parameter, then hub topics."""
    components: dict[str, Any] = {
        "schemas": payloads.avro_payloads(EVENT_TYPES),
        "messages": {},
        "securitySchemes": kafka.security_schemes(scram=True, mtls=bool(ctx.listeners.mtls_bootstrap)),
    }

    def register(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
        components["messages"].update(found)
        return {name.split(".", 1)[1] if name.startswith(("inbound.", "outbound.", "canonical.")) else name:
                {"$ref": f"#/components/messages/{name}"} for name in found}

    sent = sendable_types()
    inbound = register({messages.message_name("inbound", t): messages.event_message(
        t, "inbound", levels=BOTH_LEVELS, schema_base=ctx.schema_base) for t in sent})
    inbound.update(register({"inbound.cloudevent": messages.structured_message(sent, levels=BOTH_LEVELS)}))
    outbound = register({messages.message_name("outbound", t): messages.event_message(
        t, "outbound", levels=BOTH_LEVELS, schema_base=ctx.schema_base) for t in EVENT_TYPES})
    inbound_spec, inbound_partitions = _family(ctx, topics.inbound)
    outbound_spec, outbound_partitions = _family(ctx, topics.outbound)
    parameters = {"org": _org_parameter(ctx)}
    channels: dict[str, Any] = {
        "partnerInbound": {
            "address": "partner.{org}.inbound", "parameters": parameters,
            "title": "What partner {org} publishes",
            "description": "One topic per partner; only that partner may write it, and the source of an event is "
            "the topic it arrived on. Binary mode (Avro, ce_* headers) or structured mode (one JSON CloudEvent).",
            "messages": inbound,
            "bindings": kafka.channel_binding(inbound_spec, family=True,
                                              partitions_by_organisation=inbound_partitions),
        },
        "partnerOutbound": {
            "address": "partner.{org}.outbound", "parameters": parameters,
            "title": "What the hub delivers to partner {org}",
            "description": "One topic per partner, projected to its disclosure level (ce_casehubdisclosure); only "
            "that partner may read it. Aggregate-level partners receive no events here: they read stats.aggregates.",
            "messages": outbound,
            "bindings": kafka.channel_binding(outbound_spec, family=True,
                                              partitions_by_organisation=outbound_partitions),
        },
    }
    operations: dict[str, Any] = {
        "sendPartnerEvents": {"action": "send", "channel": {"$ref": "#/channels/partnerInbound"},
                              "title": "A partner publishes case events", "messages": _refs("partnerInbound", [
                                  *sent, STRUCTURED])},
        "receivePartnerDeliveries": {"action": "receive", "channel": {"$ref": "#/channels/partnerOutbound"},
                                     "title": "A partner receives its deliveries",
                                     "messages": _refs("partnerOutbound", list(EVENT_TYPES)),
                                     "bindings": kafka.consumer_binding(None)},
    }
    known = _known(ctx)
    for spec in ctx.plan.values():
        if spec.name.startswith("partner."):
            continue
        described = known.get(spec.name) or _other_topic(spec)
        found = register(described.messages())
        channels[described.channel] = {
            "address": spec.name, "title": described.title,
            "description": f"{spec.purpose[:1].upper()}{spec.purpose[1:]}. Readers: {described.readers}",
            "messages": found, "bindings": kafka.channel_binding(spec),
        }
        operation = "receive" + described.channel[:1].upper() + described.channel[1:]
        operations[operation] = {"action": "receive", "channel": {"$ref": f"#/channels/{described.channel}"},
                                 "title": f"Read {spec.name}", "messages": _refs(described.channel, list(found)),
                                 "bindings": kafka.reader_binding(described.readers)}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:casehub:asyncapi:hub",
        "info": info("casehub: every Kafka channel of the hub", _description(ctx)),
        "defaultContentType": payloads.AVRO_CONTENT_TYPE,
        "servers": kafka.servers(ctx.listeners, scram=True, mtls=True),
        "channels": channels,
        "operations": operations,
        "components": components,
    }


def _description(ctx: Context) -> str:
    partners = len(ctx.registry.partners)
    return (
        f"Every topic of casehub: an inbound and an outbound topic for each of the {partners} partners of the "
        f"registry ({2 * partners} topics, described once each as `partner.{{org}}.inbound` and "
        "`partner.{org}.outbound`), and the hub's own topics. Partners publish case events; the hub validates, "
        "deduplicates, enriches and routes them through `cases.events` to each partner's outbound topic, projected "
        "to its disclosure level, and records every disclosure in `hub.audit`. Records follow the CloudEvents Kafka "
        "binding in binary mode (Avro value, `ce_*` headers, `ce_subject` = the case); a record that cannot be "
        "processed goes to `hub.dlq` unchanged with `hub.error.*` headers.\n\n"
        f"Replicas and partitions are those `casehub topics apply` provisions on a cluster of {ctx.brokers} "
        "broker(s) (casehub/ops/README.md). A partner reads its own document: `casehub partners asyncapi ORG`, or "
        "GET /v1/asyncapi with its API key."
    )
