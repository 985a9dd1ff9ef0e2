"""The edges of the hub: how partners publish to it and receive from it (HTTP, SDK, webhooks, CSV)."""
