"""Replay: read a topic range without a consumer group and send it to a partner, the pipeline or a file."""

from casehub.connectors.replay.ranges import OffsetSpec, parse_time
from casehub.connectors.replay.replay import ReplayReport, ReplayRequest, run_replay
from casehub.connectors.replay.selection import Filters

__all__ = ["Filters", "OffsetSpec", "ReplayReport", "ReplayRequest", "parse_time", "run_replay"]
