"""Alert: score records that crossed the threshold become alerts with a plain-words why."""

from engine.alert.build import build_alerts

__all__ = ["build_alerts"]
