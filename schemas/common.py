"""Building blocks shared by every contract: the base record, ids, protected fields."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

#: Key set in a field's JSON Schema to mark a protected characteristic.
PROTECTED_KEY = "x-protected"
#: Key set in a field's JSON Schema to mark personal data: masked in the operations
#: centre until a user states a purpose for seeing it (engine/oversight/masking.py).
PERSONAL_KEY = "x-personal"


class Record(BaseModel):
    """Base of every record on a topic: frozen, strict about unknown fields, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = Field(default=SCHEMA_VERSION, description="Version of this contract.")


def protected(description: str, **kwargs: Any) -> Any:
    """A field holding a protected characteristic (nationality, sex, date of birth...).

    Rules and models may not read it; it is kept for document screening and for
    fairness monitoring. The mark lands in the JSON Schema as ``x-protected``.
    """
    return Field(description=description, json_schema_extra={PROTECTED_KEY: True}, **kwargs)


def personal(description: str, **kwargs: Any) -> Any:
    """A field holding personal data (a name, a document number, contact details...).

    The operations centre masks it until a user states why they need to see it, and
    writes that to the audit log. The mark lands in the JSON Schema as ``x-personal``.
    """
    return Field(description=description, json_schema_extra={PERSONAL_KEY: True}, **kwargs)


def stable_id(kind: str, *parts: str) -> str:
    """A deterministic id: the same kind and parts give the same id on every run.

    Replays and retries therefore produce the ids they produced the first time,
    which is what lets downstream consumers drop duplicates.
    """
    digest = hashlib.sha256("\x1f".join((kind, *parts)).encode("utf-8")).hexdigest()
    return f"{kind}-{digest[:24]}"
