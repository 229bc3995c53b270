"""The chance that examining an alert finds something, learned from outcomes."""

from __future__ import annotations

from typing import Any

from river import compose, linear_model, optim, preprocessing

from engine.score.model import model


@model(id="yield_logistic", version="1", kind="yield", modes={"passenger", "freight", "vessel"})
def build(seed: int) -> Any:
    """Chance of a find.

    Logistic regression over what the rules found and the event's features (route,
    booking, goods, track), taught by every recorded outcome: a seizure or an arrest
    is a find, nothing found is not, not examined teaches nothing.
    """
    del seed  # deterministic without one
    return compose.Pipeline(
        preprocessing.StandardScaler(),
        linear_model.LogisticRegression(optimizer=optim.SGD(0.05), l2=0.001),
    )
