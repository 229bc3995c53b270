"""How unusual an event is for its mode, learned from the traffic itself."""

from __future__ import annotations

from typing import Any

from river import anomaly, compose, preprocessing

from engine.score.model import model


@model(id="anomaly_halfspace", version="1", kind="anomaly", modes={"passenger", "freight", "vessel"})
def build(seed: int) -> Any:
    """Unusual for its mode.

    Half-space trees over the event's numbers (hours booked ahead, party size, bags,
    value per kg, time since a ship's last report...), scaled to 0-1 as they arrive.
    One model per mode and partition, learning from a share of all its events and
    scoring those a rule found something in; a score near 1 means few recent events
    looked like this one.
    """
    return compose.Pipeline(
        preprocessing.MinMaxScaler(),
        anomaly.HalfSpaceTrees(n_trees=10, height=8, window_size=250, seed=seed),
    )
