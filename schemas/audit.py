"""AuditRecord: one access to or change of personal data, hash-chained."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from schemas.common import Record


class AuditRecord(Record):
    """Who saw or changed what, when and why. Never the personal data itself."""

    seq: int = Field(ge=0, description="Position in the chain.")
    at: AwareDatetime
    actor: str = Field(max_length=100, description="The user's id: never a name, never a traveller's data.")
    role: str = Field(max_length=40)
    action: str = Field(max_length=60, description="e.g. reveal, search, export, outcome.")
    allowed: bool = Field(
        default=True,
        description="False when the action was refused: the attempt is recorded under the action tried.",
    )
    record_ids: tuple[str, ...] = Field(default=(), description="Ids of the alerts and cases concerned.")
    purpose: str | None = Field(default=None, max_length=500, description="The reason the user gave.")
    recipient: str | None = Field(
        default=None, max_length=200, description="Who the data was disclosed to, when it left the centre."
    )
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 over prev_hash and this record.")
