"""How the worker's transactional producers are configured (unit level: no broker needed to build them)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from casehub.core.settings import Settings
from casehub.streams.app import base_app
from casehub.streams.exactly_once import TRANSACTION_RETRY_BACKOFF_MS


def test_transactional_producers_retry_concurrent_transactions_quickly(tmp_path: Path) -> None:
    # a worker needs its Kafka identity even to be built: this one is made up (nothing connects)
    app = base_app(Settings(home=tmp_path, worker_data_dir=tmp_path / "worker", kafka_sasl_username="casehub-worker",
                            kafka_sasl_password="unused"))
    app.in_worker = True  # what `casehub worker` sets: exactly_once is then in force

    async def build() -> tuple[float, str | None]:
        transactional = app.producer._new_producer(transactional_id="casehub-test-0")
        try:
            return transactional._sender._retry_backoff, transactional._txn_manager.transactional_id
        finally:
            await transactional.stop()

    backoff, transactional_id = asyncio.run(build())
    assert transactional_id == "casehub-test-0"
    assert backoff == TRANSACTION_RETRY_BACKOFF_MS / 1000
    assert backoff < 0.1  # aiokafka's default, which let ~1 % of commits take 100-130 ms
