"""DeadLetter: a message we could not take, kept whole with the reason."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import Record

Stage = Literal["normalise", "enrich", "score", "alert", "link", "network", "feedback"]

#: Most payload bytes a dead letter carries, so that it stays well inside Kafka's
#: default 1 MB message limit once base64-encoded.
PAYLOAD_LIMIT = 256 * 1024


class DeadLetter(Record):
    """Bad input parked with everything needed to look at it again."""

    stage: Stage
    reason: str = Field(description="Machine-readable reason code, e.g. invalid_json.")
    detail: str = Field(max_length=1000, description="Which field and why; never the field's value.")
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    source_key_b64: str | None = None
    payload_b64: str = Field(
        description="The original bytes, base64; only the first PAYLOAD_LIMIT bytes when truncated."
    )
    payload_truncated: bool = Field(
        default=False,
        description="True when the payload was too large to keep whole; the original is still "
        "at source_topic/source_partition/source_offset.",
    )
    payload_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Of the whole original.")
    payload_size: int = Field(ge=0, description="Size of the whole original, bytes.")
    dead_at: AwareDatetime
