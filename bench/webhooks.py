"""Webhook delivery throughput with per-case lanes against one-event-at-a-time delivery, measured in the same run.

    CASEHUB_HOME=.casehub/test CASEHUB_BROKER_PORT=29092 .venv/bin/python bench/webhooks.py --events 2000 --cases 200

Writes N outbound events (binary CloudEvents, keyed by case id, `--cases` cases) to a fresh partner topic; a local
receiver answers 200 after `--latency` ms. Times the dispatcher (signing, POST, one hub.audit record per attempt,
commits) from start until every event was delivered and committed, twice on the same records:
  sequential  webhook_max_in_flight=1: one event at a time (the baseline)
  lanes       webhook_max_in_flight=--in-flight: cases side by side, each case still in order
and prints events/s for each and the ratio lanes / sequential.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from casehub.connectors.webhooks.dispatcher import Dispatcher
from casehub.connectors.webhooks.secrets import SecretStore
from casehub.connectors.webhooks.targets import targets_of
from casehub.core import topics
from casehub.core.kafka_connection import connection
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.registry import parse_registry
from casehub.schemas.codec import encode_binary
from casehub.schemas.models import parse_event

SCHEMA_BASE = "http://127.0.0.1:8080"  # the hub URL the records name their schemas under (readers use type and version)
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "events" / "case.triaged.json"


def serve(port: int, latency: float, delivered: Any) -> None:
    """The receiver, in its own process (aiohttp) so it does not share the dispatcher's GIL: 200 after ``latency`` s."""
    from aiohttp import web

    ids: set[str] = set()

    async def hook(request: web.Request) -> web.Response:
        document = json.loads(await request.read())
        await asyncio.sleep(latency)
        ids.add(document["id"])
        delivered.value = len(ids)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=True)


def receiver(latency: float) -> tuple[multiprocessing.Process, str, Any]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delivered = multiprocessing.Value("i", 0)
    process = multiprocessing.Process(target=serve, args=(port, latency, delivered), daemon=True)
    process.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}/hook", delivered


def write_events(settings: Settings, topic: str, events: int, cases: int) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))["data"]
    producer = KafkaProducer(**connection(settings, "admin").kafka_python(), acks="all", linger_ms=20)
    for n in range(events):
        event = parse_event({**data, "id": f"bench-{n}", "case_id": f"CH-bench-{n % cases:05d}"})
        wire = encode_binary(event, source="/partners/hotline-1300", schema_base=SCHEMA_BASE)
        producer.send(topic, key=wire.key, value=wire.value, headers=[*wire.headers, ("ce_casehubdisclosure", b"full")])
    producer.flush(timeout=60)
    producer.close()


async def deliver_all(settings: Settings, delivered: Any, events: int) -> float:
    registry = parse_registry(settings.registry_path.read_text())  # type: ignore[union-attr]
    dispatcher = Dispatcher(settings, targets_of(registry, SecretStore.from_settings(settings)))
    started = time.perf_counter()
    await dispatcher.start()
    task = asyncio.create_task(dispatcher.run())
    while delivered.value < events:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    dispatcher.stop()
    await asyncio.wait_for(task, 60)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--latency", type=float, default=5.0, help="receiver latency, ms")
    parser.add_argument("--in-flight", type=int, default=256)
    args = parser.parse_args()
    configure_logging("WARNING")

    org = f"ngo-bench{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix="casehub-bench-webhooks-"))
    entry = {"id": org, "kind": "ngo", "name": {"th": org, "en": org}, "jurisdiction": "national",
             "disclosure": "full", "subscriptions": [], "webhook_url": "http://127.0.0.1:1/unset"}
    registry_path = workdir / "partners.yaml"
    registry_path.write_text(json.dumps({"version": 1, "partners": [entry]}))
    settings = Settings(registry_path=registry_path, webhook_secrets_path=workdir / "secrets.json")
    SecretStore.from_settings(settings).issue(org)
    admin = KafkaAdminClient(**connection(settings, "admin").kafka_python())
    admin.create_topics([NewTopic(topics.outbound(org), 6, 1)])
    admin.close()
    write_events(settings, topics.outbound(org), args.events, args.cases)

    results = {}
    for name, in_flight in (("sequential", 1), ("lanes", args.in_flight)):
        run_settings = settings.model_copy(update={"webhook_group_id": f"bench-{name}-{uuid.uuid4().hex[:6]}",
                                                   "webhook_max_in_flight": in_flight})
        server, url, delivered = receiver(args.latency / 1000)
        registry_path.write_text(json.dumps({"version": 1, "partners": [{**entry, "webhook_url": url}]}))
        results[name] = asyncio.run(deliver_all(run_settings, delivered, args.events))
        server.terminate()
        print(f"{name:<11} {args.events / results[name]:8.0f} events/s  ({results[name]:.2f} s)")
    print(f"ratio lanes/sequential: {results['sequential'] / results['lanes']:.1f}x "
          f"({args.events} events, {args.cases} cases, receiver {args.latency} ms)")


if __name__ == "__main__":
    main()
