"""Webhook delivery: partners' outbound events POSTed to their URLs, signed the Standard Webhooks way."""
