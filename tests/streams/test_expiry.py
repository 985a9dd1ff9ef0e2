"""Dedupe state older than the retention and the window is deleted, through the tables' changelogs."""

from __future__ import annotations

import time
from pathlib import Path

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.streams import dedupe
from tests.streams.conftest import start_hub
from tests.streams.harness import publish, read_until, report, with_ids

SECONDS = 2.0
FAST_EXPIRY = {
    "CASEHUB_DEDUPE_RETENTION_HOURS": str(SECONDS / 3600),
    "CASEHUB_NEAR_DUPLICATE_WINDOW_HOURS": str(SECONDS / 3600),
    "CASEHUB_EXPIRY_CHECK_SECONDS": "1",
}


def test_seen_events_and_subject_entries_are_deleted_after_they_expire(settings: Settings, workdir: Path) -> None:
    started = time.time() - 5
    hub = start_hub(settings, workdir, env_extra=FAST_EXPIRY)
    try:
        event = report()
        publish(settings, hub.lao, [event])
        first = read_until(settings, [topics.CASES_EVENTS], done=lambda rs: len(with_ids(rs, {event.id})) == 1,
                           timeout=60.0, since=started)
        assert len(with_ids(first, {event.id})) == 1

        worker = hub.worker.worker_id
        seen_key = dedupe.seen_key(topics.event_source(hub.lao), event.id)
        token = dedupe.token_of(event, settings.pseudonym_key.get_secret_value().encode())
        assert token is not None
        subject_key = dedupe.subject_key(token, event.issue_category)
        seen_log, subjects_log, expiry_log = (f"{worker}-{t}-changelog" for t in ("seen", "subjects", "expiry"))

        def ours(records: list) -> list:  # the worker also reads the shared hotline topic of other tests
            return [r for r in records if r.key in (seen_key, subject_key) or (
                r.topic == expiry_log and r.key.endswith((b"|report|" + seen_key, b"|seen|" + seen_key,
                                                          b"|subjects|" + subject_key)))]

        def history(records: list) -> list[tuple[str, bool]]:
            return sorted((r.topic, r.value is None) for r in ours(records))

        deleted = [(expiry_log, True), (seen_log, True), (subjects_log, True)]
        records = read_until(settings, [seen_log, subjects_log, expiry_log],
                             done=lambda rs: sum(deleted for _, deleted in history(rs)) == 3,
                             timeout=60.0, settle=1.0, since=started)
        # each entry, and the report's one plan for both, was written once and deleted once
        assert history(records) == sorted(deleted + [(t, False) for t in (expiry_log, seen_log, subjects_log)])

        # once forgotten, the same event is accepted as new (a retry this late is a new report)
        publish(settings, hub.lao, [event])
        again = read_until(settings, [topics.CASES_EVENTS], done=lambda rs: len(with_ids(rs, {event.id})) == 2,
                           timeout=60.0, since=started)
        assert len(with_ids(again, {event.id})) == 2
    finally:
        assert hub.worker.stop() == 0
