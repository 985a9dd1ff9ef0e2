"""A worker killed with SIGKILL mid-stream and restarted delivers every accepted event exactly once to each recipient."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.streams.audit import entries as audit_entries
from casehub.streams.pseudonyms import Pseudonyms
from tests.streams.conftest import start_hub
from tests.streams.harness import TAMBON, header, publish, read_until, report, with_ids

EVENTS = 400
WAIT = 120.0


def test_sigkill_mid_stream_then_restart_delivers_each_event_once_per_recipient(
    settings: Settings, workdir: Path
) -> None:
    started = time.time() - 5
    hub = start_hub(settings, workdir)
    events = [report() for _ in range(EVENTS)]  # children_youth: five recipients each, one pseudonymised
    ids = {e.id for e in events}
    receivers = ["hotline-1300", "pso-84", f"tc-{TAMBON}", hub.lao, hub.ngo]

    def produce() -> None:
        for start in range(0, EVENTS, 20):
            publish(settings, hub.lao, events[start : start + 20])
            time.sleep(0.05)

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        # kill once a part (not all) of the stream reached a partner
        read_until(settings, [topics.outbound("pso-84")], done=lambda rs: len(with_ids(rs, ids)) >= EVENTS // 5,
                   timeout=WAIT, since=started)
        hub.worker.kill()
    finally:
        producer.join(timeout=WAIT)
    delivered_before_kill = len(with_ids(read_until(settings, [topics.outbound("pso-84")], done=lambda rs: False,
                                                    timeout=3.0, since=started), ids))
    assert delivered_before_kill < EVENTS, "the kill came too late to test anything"

    hub.worker.start()
    assert "previous run did not stop cleanly" in hub.worker.log_text()
    outbound = [topics.outbound(org) for org in receivers]
    # the pseudonymised NGO knows each event by its own reference of (source, id)
    pseudonyms = Pseudonyms.from_settings(settings)
    known_as = {pseudonyms.pseudonym(hub.ngo, "event", f"{topics.event_source(hub.lao)}\x1f{i}"): i for i in ids}
    either = ids | set(known_as)
    records = read_until(settings, [*outbound, topics.CASES_EVENTS],
                         done=lambda rs: len(with_ids(rs, either)) >= EVENTS * (len(receivers) + 1),
                         timeout=WAIT, settle=5.0, since=started)
    if len(with_ids(records, either)) < EVENTS * (len(receivers) + 1):
        hub.worker.diagnose()  # what the stalled worker waits for goes into the log kept below
    hub.worker.stop()

    def event_id(record: object) -> str:
        found = (header(record, "ce_id") or b"").decode()
        return known_as.get(found, found)

    copies = Counter((r.topic, event_id(r)) for r in with_ids(records, either))
    per_topic = {
        topic: dict(Counter(copies[(topic, event_id)] for event_id in ids)) for topic in [*outbound, topics.CASES_EVENTS]
    }
    if not all(counts == {1: EVENTS} for counts in per_topic.values()):
        missing = {i for i in ids if copies[(topics.CASES_EVENTS, i)] != 1}
        traces = read_until(settings, [f"{hub.worker.worker_id}-intake", topics.HUB_DLQ], done=lambda rs: False,
                            timeout=10.0, since=started)
        seen_in = [(r.topic, r.partition, r.offset) for r in with_ids(traces, missing)]
        kept = Path(tempfile.gettempdir()) / f"casehub-exactly-once-{hub.worker.worker_id}.log"
        kept.write_text(hub.worker.log_text())
        raise AssertionError(f"copies per event, by topic: {per_topic}; missing {sorted(missing)[:5]} found in {seen_in}; "
                             f"worker log kept in {kept}")

    audit = read_until(settings, [topics.HUB_AUDIT], done=lambda rs: False, timeout=10.0, since=started)
    deliveries = Counter(
        (a.get("recipient"), a.get("event_id"))
        for r in audit for a in audit_entries(json.loads(r.value))
        if a.get("event_id") in ids and a.get("decision") == "delivered"
    )
    assert len(deliveries) == EVENTS * len(receivers)
    assert set(deliveries.values()) == {1}
