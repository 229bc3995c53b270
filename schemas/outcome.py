"""Outcome: what an intervention found; labels for learning and rule precision."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import Record


class Seizure(Record):
    """What was seized, and how much."""

    goods: str = Field(max_length=200)
    quantity: float = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(max_length=20)


class Outcome(Record):
    """The result of acting on an alert."""

    alert_id: str
    result: Literal["seizure", "arrest", "nothing_found", "not_examined"]
    recorded_at: AwareDatetime
    recorded_by: str = Field(description="User id of the officer, not their name.", max_length=100)
    seizures: tuple[Seizure, ...] = ()
    notes: str = Field(default="", max_length=2000)
