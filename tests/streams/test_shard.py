"""Intake keys each record by its shard without decoding it; the core hop, which decodes it, finds the same shard."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casehub.connectors.simulator.traffic import SimulatorOptions, generate
from casehub.core import topics
from casehub.registry import Registry
from casehub.schemas.codec import encode_binary, encode_structured
from casehub.streams import dedupe
from casehub.streams.dlq import Origin
from casehub.streams.exceptions import StageRejected
from casehub.streams.keys import new_case_id
from casehub.streams.pseudonyms import Pseudonyms
from casehub.streams.shard import shard_of_record
from casehub.streams.validate import accept
from tests.connectors.events import SCHEMA_BASE
from tests.streams.harness import follow_up, report
from tests.streams.test_projection import registry  # noqa: F401

KEY = b"test-pseudonym-key"
PSEUDONYMS = Pseudonyms(KEY)


def both(origin: Origin) -> tuple[str, str | None]:
    """Intake's shard, and the shard of the decoded event (None: the core hop dead-letters the record)."""
    intake = shard_of_record(origin, org=topics.org_of_inbound(origin.topic), pseudonym_key=KEY, pseudonyms=PSEUDONYMS)
    try:
        event = accept(origin, now=datetime.now(UTC), pseudonyms=PSEUDONYMS).event
    except StageRejected:
        return intake, None
    return intake, dedupe.shard_for(event, KEY)


def test_intake_finds_the_shard_of_every_simulated_record(registry: Registry) -> None:  # noqa: F811
    options = SimulatorOptions(malformed=0.05, structured_share=0.3, until=min(datetime.now(UTC), SimulatorOptions().until))
    checked = 0
    for item in generate(11, 60, options, registry=registry):
        origin = Origin(item.topic, 0, 0, item.record.key, item.record.value, tuple(item.record.headers))
        intake, core = both(origin)
        assert len(intake) == 2
        if core is not None:
            assert intake == core, (item.event_type, item.mode)
            checked += 1
    assert checked > 400


@pytest.mark.parametrize("structured", [False, True])
def test_a_follow_up_is_keyed_by_its_case_also_by_a_pseudonymised_partners_reference(structured: bool) -> None:
    case_id = new_case_id("7C", datetime.now(UTC))
    reference = PSEUDONYMS.case_reference("ngo-a", case_id)
    encode = encode_structured if structured else encode_binary
    for named, org in ((case_id, "pso-84"), (reference, "ngo-a")):
        wire = encode(follow_up("case.followup", case_id=named), source="/partners/x", schema_base=SCHEMA_BASE)
        origin = Origin(topics.inbound(org), 0, 0, wire.key, wire.value, tuple(wire.headers))
        assert shard_of_record(origin, org=org, pseudonym_key=KEY, pseudonyms=PSEUDONYMS) == "7C"


def test_a_report_is_keyed_by_its_subject_and_an_unreadable_record_still_gets_a_shard() -> None:
    event = report()
    wire = encode_binary(event, source="/partners/x", schema_base=SCHEMA_BASE)
    origin = Origin(topics.inbound("lao-x"), 0, 0, wire.key, wire.value, tuple(wire.headers))
    assert both(origin)[0] == dedupe.shard_for(event, KEY)
    for value, headers in ((b"\x00 not avro", list(wire.headers)), (b"{not json", []), (b"", [("ce_id", b"\xff")])):
        garbled = Origin(topics.inbound("lao-x"), 0, 0, None, value, tuple(headers))
        assert len(shard_of_record(garbled, org="lao-x", pseudonym_key=KEY, pseudonyms=PSEUDONYMS)) == 2
