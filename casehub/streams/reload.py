"""Restarts the worker onto a changed partner registry: a new partner's inbound topic and new recipients need one.

The worker subscribes to the inbound topics of the partners it loaded and routes with that registry;
both are fixed while faust runs. A timer checks the registry file (``casehub.registry.watch``); when it
holds a different, valid registry, the worker stops as on SIGTERM (committing its transactions, keeping
its tables) and the ``casehub worker`` command starts it again in the same process (``os.execv``).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, NoReturn

from casehub.core.logging import get_logger
from casehub.registry.watch import RegistryWatch

log = get_logger(__name__)

RESTART_EXIT_CODE = 75
"""``run_worker``'s status after a clean stop for a registry change (EX_TEMPFAIL: run it again)."""


class WorkerReload:
    """The worker's registry timer: on a valid change, a clean stop that asks to be started again."""

    def __init__(self, watch: RegistryWatch) -> None:
        self.watch = watch
        self.restart_requested = False

    async def check(self) -> None:
        if self.restart_requested:
            return
        found = self.watch.check()
        if found is None:
            return
        log.warning("registry changed: restarting onto it", source=str(self.watch.path), partners=len(found.partners),
                    **self.watch.differences(found))
        self.restart_requested = True
        os.kill(os.getpid(), signal.SIGTERM)  # the same clean stop as an operator's SIGTERM


def restart_worker(argv: list[str] | None = None) -> NoReturn:
    """Replace this process with a new ``casehub worker`` with the same arguments and environment."""
    args: list[Any] = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os.execv(sys.executable, [sys.executable, "-m", "casehub", *args])
