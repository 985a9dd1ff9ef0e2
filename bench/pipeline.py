"""The whole pipeline (one `casehub worker`, exactly_once) against a raw aiokafka passthrough, in the same run.

    CASEHUB_HOME=.casehub/test CASEHUB_BROKER_PORT=29092 .venv/bin/python bench/pipeline.py
    ... --events 5000 --rate 200 --seconds 20 --subjects 1000000

Prints:
  throughput  events/s through the pipeline (inbound produce -> last outbound record visible, read_committed)
              and through a raw aiokafka consume -> produce of the same records; their ratio (target >= 0.5)
  latency     p50/p99 inbound produce -> outbound visible at a steady --rate events/s (target p99 <= 250 ms)
  memory      the worker's peak RSS (psutil) after --subjects distinct subjects passed dedupe (target <= 300 MB)

The mix: reports from the contract's example in 12 tambons of two provinces, 11 issue categories,
children and elders and adults, 2 % partner retries (same id again) and 1 % malformed records.
Every partner of the bench registry is its own (lao-/ngo-/hosp-/police-<run id>), so shared topics other
than cases.*, hub.* stay untouched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka.admin import NewTopic
from stdnum.th import pin

from casehub.core import topics
from casehub.core.settings import Settings
from casehub.ops.topic_plan import replication_for
from casehub.ops.topics import admin_client, apply_topics, broker_count
from casehub.registry import parse_registry
from casehub.schemas.codec import encode_binary
from casehub.schemas.models import parse_event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pure_stages import processor, run_stages  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASEHUB = Path(sys.executable).with_name("casehub")
TAMBONS = ["840502", "840503", "840101", "840102", "840103", "840201", "500101", "500102", "500103", "500104",
           "500105", "500106"]
CATEGORIES = ["family_violence", "teen_pregnancy", "human_trafficking", "drugs", "homeless_destitute",
              "children_youth", "missing_persons", "elderly", "disability", "begging", "poverty"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def registry_text(run: str) -> str:
    def partner(org: str, kind: str, area: Any, disclosure: str) -> dict[str, Any]:
        return {"id": org, "kind": kind, "name": {"th": org, "en": org}, "jurisdiction": area,
                "disclosure": disclosure, "subscriptions": [{"event_types": ["*"], "issue_categories": ["*"]}]}

    partners = [
        partner(f"lao-{run}", "lao", {"tambons": TAMBONS}, "full"),
        partner(f"hosp-{run}", "hospital", {"provinces": ["84", "50"]}, "full"),
        partner(f"ngo-{run}", "ngo", {"provinces": ["84", "50"]}, "pseudonymised"),
        partner(f"police-{run}", "police", {"provinces": ["84"]}, "full"),
    ]
    return json.dumps({"version": 1, "partners": partners}, ensure_ascii=False)


def citizen_id(n: int) -> str:
    body = f"1{n:011d}"
    return body + pin.calc_check_digit(body)


class Mix:
    """Inbound records: mostly new reports, some partner retries, some malformed."""

    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.template = json.loads((ROOT / "examples/events/case.reported.json").read_text())["data"]
        self.sent: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]] = []

    def report(self, n: int, tambon: str | None = None) -> tuple[str, tuple[bytes | None, bytes, list[tuple[str, bytes]]]]:
        data = dict(self.template)
        age = self.random.choice([7, 15, 34, 52, 68, 81])
        data.update(
            id=f"bench-{uuid.uuid4().hex[:20]}",
            occurred_at=(datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            issue_category=self.random.choice(CATEGORIES),
            location={"tambon_code": tambon or self.random.choice(TAMBONS)},
        )
        data["subject"] = {**data["subject"], "citizen_id": citizen_id(n),
                           "birth_date": date(2026 - age, 3, 1).isoformat()}
        wire = encode_binary(parse_event(data), source="/partners/bench")
        return data["id"], (wire.key, wire.value, wire.headers)

    def records(self, count: int, first_subject: int) -> tuple[list[tuple[bytes | None, bytes, Any]], list[str]]:
        """``count`` records; returns them and the ids of the distinct valid events among them."""
        out: list[tuple[bytes | None, bytes, Any]] = []
        ids: list[str] = []
        for i in range(count):
            roll = self.random.random()
            if roll < 0.01:
                out.append((b"x", b"\x00 not an event", [("content-type", b"application/avro")]))
            elif roll < 0.03 and out and ids:
                out.append(self.last)  # a partner retry: the same record again
            else:
                event_id, record = self.report(first_subject + i)
                self.last = record
                out.append(record)
                ids.append(event_id)
        return out, ids


class Worker:
    """`casehub worker` as a subprocess."""

    def __init__(self, settings: Settings, registry: Path, folder: Path) -> None:
        self.log = folder / "worker.log"
        env = dict(os.environ)
        self.worker_id = f"casehub-bench-{uuid.uuid4().hex[:8]}"
        env.update(CASEHUB_KAFKA_BOOTSTRAP=settings.bootstrap_servers(), CASEHUB_WORKER_ID=self.worker_id,
                   CASEHUB_WORKER_WEB_PORT=str(free_port()), CASEHUB_WORKER_METRICS_PORT=str(free_port()),
                   CASEHUB_WORKER_DATA_DIR=str(folder / "data"), CASEHUB_REGISTRY_PATH=str(registry),
                   CASEHUB_LOG_LEVEL="INFO")
        self.process = subprocess.Popen([str(CASEHUB), "worker"], env=env, stdout=self.log.open("ab"),
                                        stderr=subprocess.STDOUT)
        self.peak_rss = 0

    def sample_rss(self) -> int:
        try:
            rss = psutil.Process(self.process.pid).memory_info().rss
        except psutil.NoSuchProcess:
            return self.peak_rss
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def produce(settings: Settings, topic: str, records: list[Any], rate: float | None = None) -> dict[str, float]:
    """Send records (at ``rate`` per second if given); returns event id -> send time."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers(), acks="all", linger_ms=5)
    await producer.start()
    sent: dict[str, float] = {}
    try:
        started = time.perf_counter()
        futures = []
        for i, (key, value, headers) in enumerate(records):
            if rate:
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            event_id = next((v.decode() for k, v in headers if k == "ce_id"), None)
            if event_id and event_id not in sent:
                sent[event_id] = time.time()
            futures.append(await producer.send(topic, value, key=key, headers=headers))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


async def watch(settings: Settings, topic: str, ids: set[str], timeout: float, worker: Worker | None = None,
                by_header: str = "ce_id", stamps: dict[str, float] | None = None) -> dict[str, float]:
    """When each id became visible on ``topic`` (read_committed), until all seen or ``timeout``.

    ``stamps`` (if given) gets each id's record timestamp: when the worker produced it.
    """
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.bootstrap_servers(), isolation_level="read_committed",
                                auto_offset_reset="latest", enable_auto_commit=False, group_id=None)
    await consumer.start()
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(seen) < len(ids) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            now = time.time()
            for records in batches.values():
                for record in records:
                    found = next((v.decode() for k, v in record.headers if k == by_header), None)
                    if found in ids and found not in seen:
                        seen[found] = now
                        if stamps is not None:
                            stamps[found] = record.timestamp / 1000
            if worker is not None:
                worker.sample_rss()
    finally:
        await consumer.stop()
    return seen


async def ready_watch(settings: Settings, topic: str, ids: set[str], timeout: float, worker: Worker | None = None,
                      stamps: dict[str, float] | None = None) -> asyncio.Task[dict[str, float]]:
    task = asyncio.create_task(watch(settings, topic, ids, timeout, worker, stamps=stamps))
    await asyncio.sleep(1.5)  # the consumer joins at the end of the topic before anything is sent
    return task


async def passthrough(settings: Settings, source: str, target: str, count: int) -> float:
    """Raw aiokafka consume -> produce of ``count`` records (bytes untouched); returns seconds."""
    consumer = AIOKafkaConsumer(source, bootstrap_servers=settings.bootstrap_servers(), group_id=f"raw-{uuid.uuid4().hex}",
                                auto_offset_reset="earliest", enable_auto_commit=False, isolation_level="read_committed")
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers(), acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    moved = 0
    started = time.perf_counter()
    try:
        while moved < count:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            futures = []
            for records in batches.values():
                for r in records:
                    futures.append(await producer.send(target, r.value, key=r.key, headers=list(r.headers)))
            await asyncio.gather(*futures)
            await consumer.commit()
            moved += len(futures)
    finally:
        await consumer.stop()
        await producer.stop()
    return time.perf_counter() - started


def worker_ready(worker: Worker, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "worker ready" in worker.log.read_text(errors="replace"):
            return
        if worker.process.poll() is not None:
            raise SystemExit(f"worker exited:\n{worker.log.read_text()[-3000:]}")
        time.sleep(0.2)
    raise SystemExit("worker not ready in time")


async def main(args: argparse.Namespace) -> None:
    settings = Settings()
    # the in-process ceiling runs the stages here: their per-record logs belong to the worker's log, not this output
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    run = "b" + uuid.uuid4().hex[:8]
    folder = Path(tempfile.mkdtemp(prefix="casehub-bench-"))
    registry_path = folder / "partners.yaml"
    registry_path.write_text(registry_text(run))
    registry = parse_registry(registry_path.read_text(), source=str(registry_path))
    apply_topics(settings, registry)
    inbound, watched = topics.inbound(f"lao-{run}"), topics.outbound(f"hosp-{run}")
    raw_out = f"bench.raw.{run}"
    with admin_client(settings) as admin:
        admin.create_topics([NewTopic(raw_out, 1, replication_for(settings, broker_count(admin)))])
    mix = Mix()
    worker = Worker(settings, registry_path, folder)
    try:
        worker_ready(worker)
        print(f"bench run {run}: broker {settings.bootstrap_servers()}, worker log {worker.log}")

        # 1. throughput: the same records through the pipeline and through a raw passthrough
        records, ids = mix.records(args.events, first_subject=0)
        task = await ready_watch(settings, watched, set(ids), args.timeout, worker)
        started = time.time()
        await produce(settings, inbound, records)
        seen = await task
        pipeline_seconds = max(seen.values()) - started if seen else float("nan")
        pipeline_rate = len(records) / pipeline_seconds
        raw_seconds = await passthrough(settings, inbound, raw_out, len(records))
        raw_rate = len(records) / raw_seconds
        print(f"throughput: pipeline {pipeline_rate:,.0f} events/s ({len(seen)}/{len(ids)} delivered), "
              f"raw aiokafka passthrough {raw_rate:,.0f} events/s, ratio {pipeline_rate / raw_rate:.2f} (target >= 0.5)")
        pure_seconds, outputs = run_stages(processor(settings, registry), inbound, records)
        pure_rate = len(records) / pure_seconds
        print(f"  ceiling: the stages alone, in-process with no Kafka, {pure_rate:,.0f} events/s "
              f"({outputs / len(records):.1f} outputs per event): the ratio cannot exceed {pure_rate / raw_rate:.2f}")

        # 2. latency at a steady rate
        steady, steady_ids = mix.records(int(args.rate * args.seconds), first_subject=10_000_000)
        intake_stamps: dict[str, float] = {}
        outbound_stamps: dict[str, float] = {}
        intake_task = await ready_watch(settings, f"{worker.worker_id}-intake", set(steady_ids),
                                        args.seconds + args.timeout, stamps=intake_stamps)
        task = await ready_watch(settings, watched, set(steady_ids), args.seconds + args.timeout, worker,
                                 stamps=outbound_stamps)
        sent = await produce(settings, inbound, steady, rate=args.rate)
        seen = await task
        intake_task.cancel()
        latencies = sorted((seen[i] - sent[i]) * 1000 for i in seen if i in sent)
        hops = [(intake_stamps[i] - sent[i], outbound_stamps[i] - intake_stamps[i], seen[i] - outbound_stamps[i])
                for i in seen if i in sent and i in intake_stamps and i in outbound_stamps]
        if latencies:
            p50 = statistics.median(latencies)
            p90, p99 = (latencies[min(len(latencies) - 1, int(len(latencies) * q))] for q in (0.90, 0.99))
            print(f"latency at {args.rate:.0f} events/s: p50 {p50:.0f} ms, p90 {p90:.0f} ms, p99 {p99:.0f} ms, "
                  f"max {latencies[-1]:.0f} ms ({len(latencies)}/{len(steady_ids)} events; target p99 <= 250 ms)")
        if hops:
            names = ("inbound -> intake hop produced", "-> core hop produced", "-> visible to the partner")
            parts = []
            for name, values in zip(names, zip(*hops, strict=True), strict=True):
                ordered = sorted(v * 1000 for v in values)
                parts.append(f"{name} p50 {statistics.median(ordered):.0f} / p99 {ordered[int(len(ordered) * 0.99)]:.0f} ms")
            print("  where the time goes: " + "; ".join(parts))

        # 3. memory after N distinct subjects passed dedupe
        if args.subjects:
            await memory(settings, inbound, watched, worker, mix, args)
    finally:
        worker.stop()


async def memory(settings: Settings, inbound: str, watched: str, worker: Worker, mix: Mix, args: argparse.Namespace) -> None:
    """Distinct subjects through dedupe in batches, sampling the worker's RSS; bounded by --memory-minutes.

    The reports are about a Bangkok tambon no bench partner covers, so each one costs the worker its
    dedupe, enrichment and case state but no deliveries: the subjects go through as fast as they can.
    """
    batch = 5_000
    passed = 0
    started = time.perf_counter()
    stop_at = started + args.memory_minutes * 60
    while passed < args.subjects and time.perf_counter() < stop_at:
        count = min(batch, args.subjects - passed)
        records = []
        last_id = ""
        for i in range(count):
            last_id, record = mix.report(20_000_000 + passed + i, tambon="100101")
            records.append(record)
        task = await ready_watch(settings, topics.CASES_EVENTS, {last_id}, args.timeout * 10, worker)
        await produce(settings, inbound, records)
        await task
        passed += count
        rss = worker.sample_rss()
        print(f"  {passed:,} subjects passed dedupe, RSS {rss / 2**20:.0f} MB, peak {worker.peak_rss / 2**20:.0f} MB, "
              f"{passed / (time.perf_counter() - started):,.0f} subjects/s", flush=True)
    print(f"memory: peak RSS {worker.peak_rss / 2**20:.0f} MB after {passed:,} distinct subjects "
          f"(asked for {args.subjects:,}; target <= 300 MB at 1,000,000)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000, help="records for the throughput comparison")
    parser.add_argument("--rate", type=float, default=200.0, help="steady rate for the latency measurement")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady-rate run")
    parser.add_argument("--subjects", type=int, default=1_000_000, help="distinct subjects for the memory figure; 0 = skip")
    parser.add_argument("--memory-minutes", type=float, default=30.0, help="bound on the memory run, minutes")
    parser.add_argument("--timeout", type=float, default=120.0, help="bound on every wait, seconds")
    asyncio.run(main(parser.parse_args()))
