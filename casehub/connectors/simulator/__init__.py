"""Realistic partner traffic for the hub's inbound topics: seeded case lifecycles, duplicates, retries, broken records."""

from casehub.connectors.simulator.traffic import (
    DEFAULT_UNTIL,
    Intent,
    SimulatedRecord,
    SimulatorOptions,
    Traffic,
    generate,
)

__all__ = ["DEFAULT_UNTIL", "Intent", "SimulatedRecord", "SimulatorOptions", "Traffic", "generate"]
