"""Who is calling: the API key names the partner (never the body), and each request spends a rate-limit token.

Operator keys (``casehub partners key --operator``) live in the same store under the reserved organisation
``OPERATORS``, which no partner id can be; they open the operator routes (``/metrics``) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from casehub.connectors.gateway.exceptions import KeyNotAllowed, KeyRejected
from casehub.connectors.gateway.keys import OPERATORS, KeyRecord
from casehub.connectors.gateway.state import Gateway, gateway_of
from casehub.core import topics
from casehub.registry import Partner

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="casehub API key (chk_...)",
    description="The partner's API key, issued by `casehub partners key ORG`: `Authorization: Bearer chk_...`.",
)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated partner of a request."""

    partner: Partner
    key_id: str

    @property
    def org(self) -> str:
        return self.partner.id

    @property
    def source(self) -> str:
        """The CloudEvents source of everything this caller sends."""
        return topics.event_source(self.partner.id)


def _key_record(hub: Gateway, credentials: HTTPAuthorizationCredentials | None) -> KeyRecord:
    if credentials is None or not credentials.credentials:
        raise KeyRejected("no API key", hint="send `Authorization: Bearer <key>`; an operator issues keys with `casehub partners key ORG`")
    record = hub.keys.authenticate(credentials.credentials)
    if record is None:
        raise KeyRejected("the API key is not valid", hint="it may have been revoked; ask the hub's operators for a new one")
    return record


def authenticate(hub: Gateway, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    """The caller a bearer key belongs to; KeyRejected for a missing, unknown or revoked key."""
    record = _key_record(hub, credentials)
    if record.org == OPERATORS:
        raise KeyNotAllowed("an operator key does not act for a partner", hint="use the partner's own key")
    partner = hub.registry.partners.get(record.org)
    if partner is None:
        raise KeyRejected(f"the key's organisation {record.org} is not in the partner registry")
    return Caller(partner, record.key_id)


def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    """FastAPI dependency: authenticate, then take one token from the partner's rate-limit bucket."""
    hub = gateway_of(request)
    found = authenticate(hub, credentials)
    request.state.partner = found.org
    request.state.quota = hub.limiter.take(found.org)
    return found


def operator(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """FastAPI dependency of the operator routes: an operator key (401 without a key, 403 with a partner's)."""
    record = _key_record(gateway_of(request), credentials)
    if record.org != OPERATORS:
        raise KeyNotAllowed("this route needs an operator key", hint="issue one with `casehub partners key --operator`")
    return record.key_id
