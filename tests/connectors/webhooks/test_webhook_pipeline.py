"""End to end: a partner's report goes through a real `casehub worker` and reaches a pseudonymised NGO by webhook."""

from __future__ import annotations

import uuid
from pathlib import Path

from standardwebhooks.webhooks import Webhook

from casehub.connectors.webhooks.dispatcher import Dispatcher
from casehub.connectors.webhooks.secrets import SecretStore
from casehub.connectors.webhooks.targets import TargetSource
from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.topics import apply_topics
from casehub.registry import parse_registry
from casehub.streams.pseudonyms import Pseudonyms
from tests.connectors.webhooks.conftest import Tail, audit_of, running, until
from tests.connectors.webhooks.receiver import Receiver
from tests.streams.harness import TAMBON, Worker, partner, publish, registry_yaml, report

WAIT = 90.0


async def test_a_report_reaches_a_pseudonymised_ngo_by_webhook_without_personal_data(
    settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    slug = "t" + uuid.uuid4().hex[:8]
    lao, ngo = f"lao-{slug}", f"ngo-{slug}"
    registry_path = tmp_path / "partners.yaml"
    registry_path.write_text(registry_yaml([
        partner(lao, "lao", {"tambons": [TAMBON]}, "full", ["case.reported"], ["children_youth"]),
        partner(ngo, "ngo", {"provinces": ["84"]}, "pseudonymised", ["case.reported"], ["children_youth"],
                webhook_url=receiver.url),
    ]))
    configured = settings.model_copy(update={
        "registry_path": registry_path, "webhook_secrets_path": tmp_path / "secrets.json",
        "webhook_group_id": f"casehub-webhooks-{slug}",
    })
    apply_topics(configured, parse_registry(registry_path.read_text(), source=str(registry_path)))
    secret = SecretStore.from_settings(configured).issue(ngo)[0].get_secret_value()
    audit = Tail(configured, topics.HUB_AUDIT)
    worker = Worker(configured, tmp_path / "worker", registry_path)
    (tmp_path / "worker").mkdir()
    worker.start()
    try:
        event = report(category="children_youth")
        publish(configured, lao, [event])
        source = TargetSource(configured)
        async with running(Dispatcher(configured, source.current(), refresh=source.current)):
            await until(lambda: len(receiver.requests) >= 1, timeout=WAIT, what="the webhook from the pipeline")
    finally:
        worker.stop()

    [request] = receiver.requests
    document = Webhook(secret).verify(request.body, request.headers)
    # the NGO's own reference of the event; the LAO's id (an org id that names a tambon) is not its business
    pseudonyms = Pseudonyms.from_settings(configured)
    assert document["id"] == pseudonyms.pseudonym(ngo, "event", f"{topics.event_source(lao)}\x1f{event.id}")
    assert document["type"] == "case.reported"
    assert document["source"] == "/hub"
    assert document["casehubdisclosure"] == "pseudonymised"
    data = document["data"]
    assert data["case_id"] == document["subject"] and data["subject_token"]
    assert event.subject.citizen_id not in request.body.decode()
    assert "citizen_id" not in data["subject"] or data["subject"]["citizen_id"] is None
    assert not data["subject"].get("given_name") and not data["subject"].get("family_name")
    assert not data.get("summary")  # free text never leaves the hub at this level

    # the pipeline's record names the hub's case id; the dispatcher only ever saw the NGO's reference of it
    records = audit.read(lambda r: f'"recipient":"{ngo}"'.encode() in r.value, expect=2, timeout=WAIT)
    entries = [e for e in audit_of(records) if e["recipient"] == ngo]
    decisions = {(e["recipient"], e["decision"]) for e in entries}
    (delivered,) = [e for e in entries if e["decision"] == "delivered"]
    assert pseudonyms.case_reference(ngo, delivered["case_id"]) == document["subject"]
    assert (ngo, "delivered") in decisions  # the pipeline's disclosure record
    assert (ngo, "webhook_delivered") in decisions  # the dispatcher's attempt record
