"""What a running worker is waiting for, logged on SIGUSR1: commit gate, partition offsets, every task's stack.

A worker that stops making progress without an error is the hardest fault to read from outside; an
operator (or a test that timed out) sends ``kill -USR1 <pid>`` and reads one ``worker diagnostics`` line.
"""

from __future__ import annotations

import asyncio
import io
import signal
from typing import Any

from casehub.core.logging import get_logger
from casehub.streams.faust_compat import consumer as compat

log = get_logger(__name__)


def install(app: Any, gate: Any) -> None:
    """Log :func:`snapshot` of ``app`` whenever the process gets SIGUSR1 (inside the worker's event loop)."""
    loop = asyncio.get_event_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: log.warning("worker diagnostics", **snapshot(app, gate)))


def snapshot(app: Any, gate: Any) -> dict[str, Any]:
    """The gate's state, each assigned partition's committed offset and acks, and the stack of every task."""
    consumer: Any = app.consumer
    partitions = {}
    for tp in sorted(consumer.assignment()):
        acked = compat.acked_offsets(consumer, tp)
        partitions[f"{tp.topic}/{tp.partition}"] = {
            "committed": compat.committed_offset(consumer, tp),
            "acked": len(acked),
            "acked_min": min(acked) if acked else None,
            "acked_max": max(acked) if acked else None,
            "gaps": compat.gaps(consumer, tp)[:5],
            "first_since_assignment": gate.first_offsets.get(tp),
        }
    return {
        "gate": {"active": gate._active, "committing": gate._committing},
        "partitions": partitions,
        "tasks": [_stack(task) for task in asyncio.all_tasks()],
    }


def _stack(task: asyncio.Task[Any]) -> str:
    out = io.StringIO()
    task.print_stack(limit=12, file=out)
    return out.getvalue()
