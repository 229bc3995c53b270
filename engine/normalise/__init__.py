"""Normalise: raw feed messages in, typed events (or dead letters) out."""

from engine.normalise.stage import NormaliseResult, normalise_batch

__all__ = ["NormaliseResult", "normalise_batch"]
