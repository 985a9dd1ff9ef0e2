"""structlog JSON logging, configured once by each entry point."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import structlog

_configured = False
REPEAT_WINDOW_SECONDS = 30.0
CLIENT_LOGGERS: tuple[str, ...] = ("kafka", "aiokafka", "mode.timers")
"""Libraries that repeat one line: Kafka clients while a broker is down, and mode's timers, which warn about every
commit that outlasts the 50 ms commit interval (``casehub_commit_seconds`` has their durations)."""


class RepeatedClientErrors(logging.Filter):
    """Lets a Kafka client's message through once per window, then says how many like it were held back.

    While a broker is down aiokafka logs the same connection error about ten times a second; the first line tells
    the operator everything, and the count says it is still happening.
    """

    def __init__(self, window: float = REPEAT_WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self.clock = clock
        self._last: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(CLIENT_LOGGERS):
            return True
        key = (record.name, record.msg)
        now = self.clock()
        seen = self._last.get(key)
        if seen is not None and now - seen[0] < self.window:
            self._last[key] = (seen[0], seen[1] + 1)
            return False
        self._last[key] = (now, 0)
        if seen is not None and seen[1]:
            record.msg = f"{record.msg} (and {seen[1]} more like it in the last {self.window:.0f} s)"
        return True


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
    handler.addFilter(RepeatedClientErrors())
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
