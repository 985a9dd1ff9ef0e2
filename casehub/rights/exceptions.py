"""Errors of the data-subject tools: an identifier that names nobody the hub could know."""

from __future__ import annotations

from casehub.core.errors import HubError


class BadSubjectId(HubError):
    """A citizen id or other id that cannot be a person's (wrong length, check digit, empty)."""
