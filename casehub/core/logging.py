"""structlog JSON logging, configured once by each entry point."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_configured = False


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Configure structlog and the stdlib root logger to emit one JSON object per line on stderr."""
    global _configured
    if _configured:
        return
    level_no = logging.getLevelName(level.upper())
    renderer: Any = structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_no)
    for noisy in ("kafka", "aiokafka", "faust", "mode"):
        # kafka-python warns about its own event-loop timing on a busy machine; only its errors matter to users
        logging.getLogger(noisy).setLevel(max(level_no, logging.ERROR if noisy == "kafka" else logging.WARNING))
    _configured = True


def get_logger(name: str, **bound: Any) -> Any:
    """A structlog logger bound with the module name and any context (topic, partition, offset, partner, event_id, case_id)."""
    # initial values keep the proxy lazy, so module-level loggers follow configure_logging() called later
    return structlog.get_logger(name=name, **bound)
