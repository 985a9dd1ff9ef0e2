"""Runnable examples of the partner SDK: ``python -m casehub.connectors.sdk.examples.<name> --help``."""
