"""Test-wide setup: logs go through our configuration (stderr, JSON), never to stdout."""

from engine.logs import configure_logging

configure_logging("warning", "json")
