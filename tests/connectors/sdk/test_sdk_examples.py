"""The SDK's runnable examples run as a partner would run them, against the real test broker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.schemas.codec import decode
from casehub.schemas.models import CaseReported
from tests.access_helpers import credentials_file
from tests.connectors.events import outbound, triaged
from tests.kafka_helpers import consume, create_topics, produce

RUN_LIMIT = 90


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", f"casehub.connectors.sdk.examples.{module}", *args],
                          capture_output=True, text=True, timeout=RUN_LIMIT, check=False)


def record_id(stdout: str) -> str:
    """The event id the example printed: ``sent <id> to ...``."""
    return stdout.split()[1]


def test_produce_report_example_writes_a_valid_report_to_the_inbound_topic(settings: Settings, unique: str,
                                                                           tmp_path: Path) -> None:
    org = f"tc-{unique[-6:].translate(str.maketrans('abcdef', '123456'))}"
    create_topics(settings, topics.inbound(org))

    done = _run("produce_report", "--credentials", str(credentials_file(settings, org, tmp_path)))

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"sent {record_id(done.stdout)} to {topics.inbound(org)} partition 0 offset 0"]
    [record] = consume(settings, topics.inbound(org), expect=1)
    decoded = decode(record.value, record.headers)
    assert isinstance(decoded.event, CaseReported)
    assert decoded.source == f"/partners/{org}"
    assert decoded.event.id in done.stdout


def test_consume_outbound_example_prints_each_event_and_commits_it(settings: Settings, unique: str, tmp_path: Path) -> None:
    org = f"ngo-{unique}"
    events = [triaged(f"CH-{unique}-1"), triaged(f"CH-{unique}-2")]
    create_topics(settings, topics.outbound(org))
    produce(settings, topics.outbound(org), [(r.key, r.value, r.headers) for r in map(outbound, events)])
    group = f"{org}.g-{unique}"
    creds = str(credentials_file(settings, org, tmp_path))

    done = _run("consume_outbound", "--credentials", creds, "--group", group,
                "--max-events", "2", "--idle-timeout", "30")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"case.triaged {events[0].id} case=CH-{unique}-1 disclosure=full")
    assert lines[1].startswith(f"case.triaged {events[1].id} case=CH-{unique}-2")
    assert lines[-1] == "handled 2 event(s)"

    again = _run("consume_outbound", "--credentials", creds, "--group", group,
                 "--idle-timeout", "3")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ["handled 0 event(s)"]
