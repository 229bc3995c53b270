"""The first store: users, sessions, cases, alerts, outcomes, audit, links, traffic, feed offsets

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("audit",
    sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(length=100), nullable=False),
    sa.Column("role", sa.String(length=40), nullable=False),
    sa.Column("action", sa.String(length=60), nullable=False),
    sa.Column("allowed", sa.Boolean(), nullable=False),
    sa.Column("record_ids", sa.JSON(), nullable=False),
    sa.Column("purpose", sa.String(length=500), nullable=True),
    sa.Column("recipient", sa.String(length=200), nullable=True),
    sa.Column("prev_hash", sa.String(length=64), nullable=False),
    sa.Column("hash", sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint("seq")
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_actor"), ["actor"], unique=False)

    op.create_table("audit_checkpoints",
    sa.Column("count", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("hash", sa.String(length=64), nullable=False),
    sa.Column("signature", sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint("count")
    )
    op.create_table("audit_head",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("hash", sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("feed_offsets",
    sa.Column("topic", sa.String(length=200), nullable=False),
    sa.Column("partition", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("next_offset", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("topic", "partition")
    )
    op.create_table("links",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("identifier", sa.String(length=100), nullable=False),
    sa.Column("event_id", sa.String(length=200), nullable=False),
    sa.Column("kind", sa.String(length=20), nullable=False),
    sa.Column("mode", sa.String(length=20), nullable=False),
    sa.Column("role", sa.String(length=20), nullable=False),
    sa.Column("holder", sa.String(length=120), nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_links_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_links_identifier"), ["identifier"], unique=False)
        batch_op.create_index("ix_links_use", ["identifier", "event_id", "holder"], unique=True)

    op.create_table("traffic",
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("mode", sa.String(length=20), nullable=False),
    sa.Column("dimension", sa.String(length=20), nullable=False),
    sa.Column("group", sa.String(length=20), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("day", "mode", "dimension", "group")
    )
    op.create_table("users",
    sa.Column("id", sa.String(length=40), nullable=False),
    sa.Column("name", sa.String(length=100), nullable=False),
    sa.Column("role", sa.String(length=20), nullable=False),
    sa.Column("password_hash", sa.String(length=200), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("name")
    )
    op.create_table("cases",
    sa.Column("case_id", sa.String(length=120), nullable=False),
    sa.Column("subject", sa.String(length=120), nullable=True),
    sa.Column("status", sa.String(length=20), nullable=False),
    sa.Column("assignee_id", sa.String(length=40), nullable=True),
    sa.Column("priority", sa.Float(), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["assignee_id"], ["users.id"], ),
    sa.PrimaryKeyConstraint("case_id")
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_assignee_id"), ["assignee_id"], unique=False)

    op.create_table("sessions",
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("user_id", sa.String(length=40), nullable=False),
    sa.Column("csrf_token", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("token_hash")
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_user_id"), ["user_id"], unique=False)

    op.create_table("alerts",
    sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("alert_id", sa.String(length=200), nullable=False),
    sa.Column("case_id", sa.String(length=120), nullable=False),
    sa.Column("event_id", sa.String(length=200), nullable=False),
    sa.Column("mode", sa.String(length=20), nullable=False),
    sa.Column("severity", sa.String(length=20), nullable=False),
    sa.Column("score", sa.Float(), nullable=False),
    sa.Column("priority", sa.Float(), nullable=False),
    sa.Column("typology", sa.String(length=100), nullable=True),
    sa.Column("port", sa.String(length=10), nullable=True),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("arrives_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(length=20), nullable=False),
    sa.Column("rules", sa.JSON(), nullable=False),
    sa.Column("models", sa.JSON(), nullable=False),
    sa.Column("nationality", sa.String(length=3), nullable=True),
    sa.Column("sex", sa.String(length=1), nullable=True),
    sa.Column("age_band", sa.String(length=10), nullable=True),
    sa.Column("body", sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"], ),
    sa.PrimaryKeyConstraint("seq"),
    sa.UniqueConstraint("alert_id")
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_priority"), ["priority"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_status"), ["status"], unique=False)

    op.create_table("case_history",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("case_id", sa.String(length=120), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.String(length=40), nullable=True),
    sa.Column("action", sa.String(length=40), nullable=False),
    sa.Column("detail", sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("case_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_history_case_id"), ["case_id"], unique=False)

    op.create_table("outcomes",
    sa.Column("alert_id", sa.String(length=200), nullable=False),
    sa.Column("result", sa.String(length=20), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_by", sa.String(length=40), nullable=False),
    sa.Column("seizures", sa.JSON(), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["alert_id"], ["alerts.alert_id"], ),
    sa.PrimaryKeyConstraint("alert_id")
    )


def downgrade() -> None:
    op.drop_table("outcomes")
    with op.batch_alter_table("case_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_history_case_id"))

    op.drop_table("case_history")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_status"))
        batch_op.drop_index(batch_op.f("ix_alerts_priority"))
        batch_op.drop_index(batch_op.f("ix_alerts_event_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_case_id"))

    op.drop_table("alerts")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_user_id"))

    op.drop_table("sessions")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_assignee_id"))

    op.drop_table("cases")
    op.drop_table("users")
    op.drop_table("traffic")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index("ix_links_use")
        batch_op.drop_index(batch_op.f("ix_links_identifier"))
        batch_op.drop_index(batch_op.f("ix_links_event_id"))

    op.drop_table("links")
    op.drop_table("feed_offsets")
    op.drop_table("audit_head")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_actor"))

    op.drop_table("audit")
