"""Signatures, backoff and verdicts, checked against the independent ``standardwebhooks`` implementation and the rules."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from casehub.connectors.webhooks.attempt import verdict_of
from casehub.connectors.webhooks.backoff import parse_retry_after, retry_delay
from casehub.connectors.webhooks.signing import message_id, new_secret, signed_headers


def test_signatures_verify_with_the_standard_webhooks_package() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and secret != new_secret()
    body = '{"id":"ev-1","data":{"summary":"เด็กอยู่ลำพัง"}}'.encode()
    now = int(datetime.now(UTC).timestamp())
    headers = signed_headers(secret, "msg_1", now, body)
    assert Webhook(secret).verify(body, headers) == {"id": "ev-1", "data": {"summary": "เด็กอยู่ลำพัง"}}
    with pytest.raises(WebhookVerificationError):  # a stale timestamp is refused by receivers: we sign each attempt anew
        Webhook(secret).verify(body, signed_headers(secret, "msg_1", now - 3600, body))
    assert signed_headers(secret, "msg_1", now, body)["webhook-signature"] != signed_headers(secret, "msg_2", now, body)["webhook-signature"]


def test_signatures_match_the_specifications_example() -> None:
    # the worked example of the Standard Webhooks specification: an independent check of what we send
    headers = signed_headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                             b'{"test": 2432232314}')
    assert headers == {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                       "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}


def test_the_webhook_id_is_stable_per_event_and_distinct_across_sources() -> None:
    assert message_id("/partners/hotline-1300", "42") == message_id("/partners/hotline-1300", "42")
    assert message_id("/partners/hotline-1300", "42") != message_id("/partners/lao-840502", "42")


def test_backoff_grows_exponentially_with_full_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(60.0, 0.5 * 2 ** (attempt - 1))
        draws = [retry_delay(attempt, initial=0.5, cap=60.0, rng=rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling * 0.8  # the whole range is used, not a fixed step
    assert retry_delay(1, initial=0.5, cap=60.0, retry_after=30.0, rng=rng) >= 30.0  # Retry-After is a floor
    assert retry_delay(1, initial=0.5, cap=60.0, retry_after=7200.0, rng=rng) == 60.0  # ...capped


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90.0
    assert parse_retry_after("soon", now=now) is None and parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, "delivered"), (204, "delivered"), (301, "permanent"), (400, "permanent"), (401, "permanent"),
     (404, "permanent"), (408, "retry"), (410, "permanent"), (429, "retry"), (500, "retry"), (503, "retry")],
)
def test_which_answers_are_retried(status: int, verdict: str) -> None:
    assert verdict_of(status) == verdict
