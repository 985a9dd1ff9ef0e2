"""``casehub worker``: run the stream pipeline (one faust worker) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import click

from casehub.core.logging import configure_logging, get_logger
from casehub.core.settings import Settings


@click.command()
@click.option("--worker-id", help="Consumer group and app id (CASEHUB_WORKER_ID); workers with one id share the load.")
@click.option("--web-port", type=int, help="Port of the worker's status web server (CASEHUB_WORKER_WEB_PORT).")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Folder of the RocksDB tables (CASEHUB_WORKER_DATA_DIR).")
def worker(worker_id: str | None, web_port: int | None, data_dir: str | None) -> None:
    """Run the pipeline: validate → dedupe → enrich → cases.events → route + project → partner outbound topics.

    Reads every partner's inbound topic in the registry; stops cleanly (committing its transactions)
    on SIGTERM or Ctrl-C. Logs are JSON lines on stderr.
    """
    overrides: dict[str, object] = {}
    if worker_id:
        overrides["worker_id"] = worker_id
    if web_port:
        overrides["worker_web_port"] = web_port
    if data_dir:
        overrides["worker_data_dir"] = data_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging(settings.log_level)
    from casehub.streams.runner import run_worker

    get_logger(__name__).info(
        "worker starting", worker_id=settings.worker_id, bootstrap=settings.bootstrap_servers(),
        guarantee=settings.processing_guarantee,
    )
    code = run_worker(settings)
    raise SystemExit(code)
