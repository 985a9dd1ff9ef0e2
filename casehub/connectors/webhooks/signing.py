"""Standard Webhooks signatures (the ``standardwebhooks`` reference library): ``whsec_`` secrets, webhook-* headers."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes in base64 (the library signs, it does not issue)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt (the timestamp is the attempt's, not the event's)."""
    signature = Webhook(secret).sign(message_id, datetime.fromtimestamp(timestamp, UTC), body)
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def message_id(source: str, event_id: str) -> str:
    """The webhook-id of an event: the same for every attempt and redelivery, so a receiver can drop repeats.

    Derived from (source, id), the pair that identifies an event; two partners' event ids never collide.
    """
    return "msg_" + hashlib.sha256(f"{source}\n{event_id}".encode()).hexdigest()[:32]
