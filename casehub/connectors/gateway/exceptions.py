"""Errors of the HTTP gateway, each in its HubError family, carrying the HTTP status (and headers) it answers with."""

from __future__ import annotations

from typing import Any

from casehub.core.errors import AuthError, ConfigError, ContractError, HubError, TransportError


class KeyRejected(AuthError):
    """The API key is missing, unknown or revoked (401; which of the three is not said)."""

    status = 401
    code = "unauthenticated"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="casehub"'}


class KeyNotAllowed(AuthError):
    """A valid key used where its kind may not go: a partner key on an operator route, or the reverse (403)."""

    status = 403
    code = "forbidden"


class UnknownOrganisation(AuthError):
    """A key is asked for, or belongs to, an organisation the partner registry does not know."""


class KeyStoreUnreadable(ConfigError):
    """The API key store file exists but cannot be read as a key store."""


class RateLimited(AuthError):
    """The partner spent its token bucket (429 with Retry-After)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, quota: Any = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after
        self.quota = quota

    def headers(self) -> dict[str, str]:
        quota = self.quota.headers() if self.quota is not None else {}
        return {**quota, "Retry-After": str(self.retry_after)}


class RequestInvalid(ContractError):
    """The request as a whole is unreadable (not JSON, wrong media type, too large, empty batch)."""

    CODES = {400: "bad_request", 413: "too_large", 415: "unsupported_media_type"}

    def __init__(self, message: str, *, status: int = 400, **context: Any) -> None:
        super().__init__(message, **context)
        self.status = status
        self.code = self.CODES.get(status, "bad_request")


class TopicMissing(TransportError):
    """The partner's topic does not exist on the cluster (`casehub topics apply` was not run for it)."""

    status = 503
    code = "topic_missing"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "30"}


class WriteFailed(TransportError):
    """Kafka did not acknowledge every event; the client should retry the whole request (ids make it safe)."""

    status = 503
    code = "write_failed"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


class ViewNotReady(TransportError):
    """The gateway has not yet read cases.state up to its end, so it cannot tell whether a case exists."""

    status = 503
    code = "not_ready"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "2"}


def http_status(error: HubError) -> int:
    """The HTTP status an error answers with (500 for errors that do not say)."""
    return int(getattr(error, "status", 500))


def error_code(error: HubError) -> str:
    """The machine-readable code of the problem document."""
    return str(getattr(error, "code", "internal_error"))


def error_headers(error: HubError) -> dict[str, str]:
    """The extra headers (Retry-After, WWW-Authenticate) of the error answer."""
    method = getattr(error, "headers", None)
    return method() if callable(method) else {}


class EventsRejected(ContractError):
    """At least one event of the request is invalid; nothing was written (422 with errors per event)."""

    status = 422
    code = "invalid_events"

    def __init__(self, problems: list[Any], total: int) -> None:
        bad = len({p.index for p in problems})
        super().__init__(
            f"{bad} of {total} event(s) are invalid; nothing was written",
            hint="fix the fields listed in errors and send the whole request again",
        )
        self.problems = problems


class CaseNotFound(AuthError):
    """No such case, or the caller may not see it: the answer is the same, so existence does not leak."""

    status = 404
    code = "not_found"


class SchemaNotFound(ContractError):
    """No published schema for that event type and version (404)."""

    status = 404
    code = "not_found"
