"""Simulate: deterministic demo traffic for the raw topics, for demos, benchmarks and tests."""

from engine.simulate.traffic import TrafficGenerator, TrafficMessage, write_jsonl

__all__ = ["TrafficGenerator", "TrafficMessage", "write_jsonl"]
