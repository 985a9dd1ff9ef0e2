"""A real HTTP receiver for webhook tests: http.server on a free loopback port, in a thread, answers programmable."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    """One POST as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    @property
    def event_id(self) -> str:
        return str(self.document["id"])


Answer = tuple[int, dict[str, str]]
Responder = Callable[[Request, int], Answer]
"""(request, how many earlier requests carried the same event id) -> (status, headers)."""


class Receiver:
    """Records every request; ``respond`` decides each answer (default 200)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.answers: list[tuple[str, int]] = []
        self.respond: Responder = lambda request, earlier: (200, {})
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length", "0"))
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                with receiver._lock:
                    earlier = sum(1 for r in receiver.requests if r.event_id == request.event_id)
                    receiver.requests.append(request)
                status, headers = receiver.respond(request, earlier)
                with receiver._lock:
                    receiver.answers.append((request.event_id, status))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/casehub"
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def of(self, event_id: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.event_id == event_id]

    def delivered(self) -> list[str]:
        """Event ids answered 2xx, in the order the answers were given."""
        with self._lock:
            return [event_id for event_id, status in self.answers if 200 <= status < 300]

    def event_ids(self) -> list[str]:
        with self._lock:
            return [r.event_id for r in self.requests]

    def wait_for(self, condition: Callable[[], bool], *, timeout: float = 60.0) -> None:
        """Block until ``condition()`` holds (bounded); fail the test with what arrived otherwise."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver condition not met within {timeout}s; got {self.event_ids()}")
            time.sleep(0.05)
