"""The small core shared by streams and connectors: settings, errors, logging."""
