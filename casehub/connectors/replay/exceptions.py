"""Errors of a replay, under casehub's families."""

from __future__ import annotations

from casehub.core.errors import TransportError


class ReplayFailed(TransportError):
    """Some replayed records could not be written; the replay's report says how far it got."""
