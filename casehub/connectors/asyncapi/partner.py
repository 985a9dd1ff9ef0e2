"""One partner's AsyncAPI document: its inbound and outbound topics, and nothing of any other partner."""

from __future__ import annotations

from typing import Any

from casehub.connectors.asyncapi import kafka, messages, payloads
from casehub.connectors.asyncapi.base import ASYNCAPI_VERSION, Context, info
from casehub.connectors.asyncapi.messages import Level
from casehub.core import topics
from casehub.registry import Disclosure, Partner
from casehub.schemas.loader import EVENT_TYPES, HUB_WRITTEN
from casehub.streams.route import ADDRESSED_TYPES

STRUCTURED = "cloudevent"


def sendable_types() -> list[str]:
    """What any partner may publish: every type of the catalogue but the hub's own (case.linked, case.escalated)."""
    return [event_type for event_type in EVENT_TYPES if event_type not in HUB_WRITTEN]


def receivable_types(partner: Partner) -> list[str]:
    """What the hub may deliver to ``partner``: what its subscriptions select, and the types that name their
    recipient (a referral, a transfer, an assignment, an escalation reaches the partner it names). None at the
    aggregate level: it gets counts, never events."""
    if partner.disclosure is Disclosure.AGGREGATE:
        return []
    return [
        event_type for event_type in EVENT_TYPES
        if event_type in ADDRESSED_TYPES or any(
            rule.matches(event_type, category) for rule in partner.subscriptions for category in (*rule.issue_categories, None)
        )
    ]


def _refs(channel: str, names: list[str]) -> list[dict[str, str]]:
    return [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in names]


def _description(partner: Partner, ctx: Context) -> str:
    level = partner.disclosure.value
    connect = ("a client certificate (CN=" + partner.id + ") on the mTLS listener" if partner.auth == "mtls"
               else "SCRAM-SHA-512 over TLS, username " + partner.id)
    return (
        f"The Kafka interface of {partner.name.en} ({partner.name.th}), organisation id `{partner.id}`, for its own "
        "systems: what they send to casehub and what casehub delivers to them. Every record follows the CloudEvents "
        "Kafka binding in binary mode: an Avro value (the schema of its type, named by the `ce_dataschema` header "
        "and served at that URL) and `ce_*` headers; structured mode (one JSON CloudEvent per record) is accepted "
        "on the inbound topic too.\n\n"
        f"- Connect with {connect}; the ACLs let you write `{topics.inbound(partner.id)}` and read "
        f"`{topics.outbound(partner.id)}` with consumer groups named `{partner.id}.<anything>`, nothing else.\n"
        "- Send: the source of everything you write is this topic, never a field you fill in; a retry with the same "
        "event id is dropped by the hub; events about an existing case carry its id (key and `ce_subject`). A "
        "record the hub cannot accept goes to its dead-letter topic, where operators see why.\n"
        f"- Receive: events selected by your subscriptions and jurisdiction, and those addressed to you, projected "
        f"to your disclosure level `{level}` (header `ce_casehubdisclosure`), keyed by the case so each case's "
        "history stays in order; read with isolation.level=read_committed.\n\n"
        f"Without Kafka, the same events go over HTTP: {ctx.schema_base}/docs (this document: GET /v1/asyncapi)."
    )


def partner_document(ctx: Context, org: str) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of partner ``org``: its channels, operations, messages, servers and security."""
    partner = ctx.registry.get(org)
    ctx.require_mtls(partner)
    levels: tuple[Level, ...] = ("pseudonymised",) if partner.disclosure is Disclosure.PSEUDONYMISED else ("full",)
    sent, received = sendable_types(), receivable_types(partner)
    scram, mtls = partner.auth == "scram", partner.auth == "mtls"
    server = kafka.SCRAM_SERVER if scram else kafka.MTLS_SERVER
    on_server = [{"$ref": f"#/servers/{server}"}]
    components: dict[str, Any] = {
        "schemas": payloads.avro_payloads(t for t in EVENT_TYPES if t in sent or t in received),
        "messages": {},
        "securitySchemes": kafka.security_schemes(scram=scram, mtls=mtls),
    }

    def message(event_type: str, direction: messages.Direction) -> dict[str, str]:
        name = messages.message_name(direction, event_type)
        components["messages"][name] = messages.event_message(
            event_type, direction, levels=levels, schema_base=ctx.schema_base, org=org)
        return {"$ref": f"#/components/messages/{name}"}

    inbound_messages = {event_type: message(event_type, "inbound") for event_type in sent}
    components["messages"]["inbound.cloudevent"] = messages.structured_message(sent, levels=levels)
    inbound_messages[STRUCTURED] = {"$ref": "#/components/messages/inbound.cloudevent"}
    channels: dict[str, Any] = {
        "inbound": {
            "address": topics.inbound(org),
            "title": f"What {org} publishes",
            "description": "Only you may write here. Binary mode (Avro value, ce_* headers) or structured mode (one "
            "JSON CloudEvent). Produce with acks=all and idempotence on; the hub validates, deduplicates, enriches "
            "and routes each event within seconds.",
            "servers": on_server,
            "messages": inbound_messages,
            "bindings": kafka.channel_binding(ctx.spec(topics.inbound(org))),
        },
        "outbound": {
            "address": topics.outbound(org),
            "title": f"What casehub delivers to {org}",
            "description": f"Projected to your disclosure level ({partner.disclosure.value}); only you may read here."
            + (" At the aggregate level nothing is delivered here: read stats.aggregates." if not received else ""),
            "servers": on_server,
            "messages": {event_type: message(event_type, "outbound") for event_type in received},
            "bindings": kafka.channel_binding(ctx.spec(topics.outbound(org))),
        },
    }
    operations: dict[str, Any] = {
        "sendEvents": {
            "action": "send",
            "channel": {"$ref": "#/channels/inbound"},
            "title": "Publish case events",
            "summary": f"Write events to {topics.inbound(org)}.",
            "messages": _refs("inbound", list(inbound_messages)),
        },
    }
    if received:
        operations["receiveDeliveries"] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/outbound"},
            "title": "Receive deliveries",
            "summary": f"Read {topics.outbound(org)} in a consumer group of your own and commit after processing.",
            "messages": _refs("outbound", received),
            "bindings": kafka.consumer_binding(org),
        }
    if partner.disclosure is Disclosure.AGGREGATE:
        components["messages"]["aggregate-cell"] = messages.aggregate_message()
        channels["aggregates"] = {
            "address": topics.STATS_AGGREGATES,
            "title": "Counts per tambon, issue category and month",
            "description": "Compacted; shared by every aggregate-level partner (they may read it, nobody writes it "
            "but the hub). Cells under 5 are published as suppressed.",
            "servers": on_server,
            "messages": {"aggregate-cell": {"$ref": "#/components/messages/aggregate-cell"}},
            "bindings": kafka.channel_binding(ctx.spec(topics.STATS_AGGREGATES)),
        }
        operations["receiveAggregates"] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/aggregates"},
            "title": "Receive aggregate counts",
            "messages": _refs("aggregates", ["aggregate-cell"]),
            "bindings": kafka.consumer_binding(org),
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": f"urn:casehub:asyncapi:partner:{org}",
        "info": info(f"casehub: Kafka channels of {org}", _description(partner, ctx)),
        "defaultContentType": payloads.AVRO_CONTENT_TYPE,
        "servers": kafka.servers(ctx.listeners, scram=scram, mtls=mtls),
        "channels": channels,
        "operations": operations,
        "components": components,
    }
