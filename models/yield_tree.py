"""A challenger to the yield model: a Hoeffding tree, recorded beside the champion."""

from __future__ import annotations

from typing import Any

from river import tree

from engine.score.model import model


@model(id="yield_tree", version="1", kind="yield", modes={"passenger", "freight", "vessel"},
       role="challenger")
def build(seed: int) -> Any:
    """Chance of a find (challenger).

    A Hoeffding adaptive tree over the same features as the champion, scored and
    recorded in shadow so its precision can be compared before it is promoted.
    """
    return tree.HoeffdingAdaptiveTreeClassifier(grace_period=30, seed=seed)
