"""Operator tools: topic provisioning, dead letters, replay, tail, lag and status."""
