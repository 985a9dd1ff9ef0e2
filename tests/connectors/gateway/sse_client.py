"""A small server-sent-events reader for tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class SseEvent:
    id: str | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def parse(text: str) -> list[SseEvent]:
    """Events of an SSE body (comments skipped; lines end in CRLF, LF or CR, as the SSE format allows)."""
    events: list[SseEvent] = []
    for block in text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in block.splitlines():
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value.removeprefix(" "))
        if "data" in fields:
            events.append(SseEvent((fields.get("id") or [None])[-1], (fields.get("event") or [None])[-1], "\n".join(fields["data"])))
    return events


def read(client: httpx.Client, *, params: dict[str, Any], last_event_id: str | None = None) -> tuple[int, list[SseEvent]]:
    """GET /v1/stream with ``limit`` in params, so the server ends the stream; the status and its events."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    answer = client.get("/v1/stream", params=params, headers=headers, timeout=60.0)
    return answer.status_code, parse(answer.text) if answer.status_code == 200 else []
