"""The worker's event loop: the kind its settings name, in its own thread and in every thread that makes a loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import uvloop

from casehub.core.settings import Settings
from casehub.streams.runner import use_event_loop


@pytest.fixture
def restored_policy() -> Iterator[None]:
    policy = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(policy)


def _loop_made_in_a_thread() -> asyncio.AbstractEventLoop:
    """What faust's consumer thread does (mode's ServiceThread): a new loop of the current policy."""
    made: list[asyncio.AbstractEventLoop] = []
    thread = threading.Thread(target=lambda: made.append(asyncio.new_event_loop()))
    thread.start()
    thread.join(timeout=10)
    made[0].close()
    return made[0]


def test_uvloop_is_the_default(restored_policy: None) -> None:
    settings = Settings()
    assert settings.worker_event_loop == "uvloop"
    use_event_loop(settings.worker_event_loop)
    assert isinstance(asyncio.get_event_loop(), uvloop.Loop)
    assert isinstance(_loop_made_in_a_thread(), uvloop.Loop)
    asyncio.get_event_loop().close()


def test_asyncio_can_be_chosen_back(restored_policy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEHUB_WORKER_EVENT_LOOP", "asyncio")
    use_event_loop(Settings().worker_event_loop)
    assert not isinstance(asyncio.get_event_loop(), uvloop.Loop)
    assert not isinstance(_loop_made_in_a_thread(), uvloop.Loop)
    asyncio.get_event_loop().close()


def test_an_unknown_kind_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEHUB_WORKER_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="worker_event_loop"):
        Settings()
