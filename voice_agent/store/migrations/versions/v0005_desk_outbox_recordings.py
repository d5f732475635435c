"""the desk: operators and their sessions, case events, the outbox, call outcomes and
recordings, hand-off contacts, address changes the shop has not confirmed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from voice_agent.store.models import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("recording_path", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("recording_consent", sa.Boolean(), nullable=True))
    with op.batch_alter_table("handoffs") as batch_op:
        batch_op.add_column(sa.Column("contact", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("taken_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("closed_at", UtcDateTime(), nullable=True))
    # Address changes stored before were the agent's alone: none has been confirmed.
    with op.batch_alter_table("address_changes") as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), server_default="unconfirmed", nullable=False)
        )
        batch_op.add_column(sa.Column("confirmed_at", UtcDateTime(), nullable=True))
    _create_operators()
    _create_outbox()
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_kind", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index("ix_case_events_case_kind_case_id", "case_events", ["case_kind", "case_id"])


def _create_operators() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint("role IN ('agent', 'admin')", name=op.f("ck_operators_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("username", name=op.f("uq_operators_username")),
    )
    op.create_table(
        "desk_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_desk_sessions_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_desk_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_desk_sessions_operator_id"), "desk_sessions", ["operator_id"], unique=False
    )


def _create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("order_number", sa.String(length=64), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_outbox_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index(
        "ix_outbox_delivered_at_next_attempt_at", "outbox", ["delivered_at", "next_attempt_at"]
    )
    op.create_index(op.f("ix_outbox_order_number"), "outbox", ["order_number"], unique=False)
    op.create_index(op.f("ix_outbox_conversation_id"), "outbox", ["conversation_id"], unique=False)


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("desk_sessions")
    op.drop_table("operators")
    op.drop_index("ix_case_events_case_kind_case_id", table_name="case_events")
    op.drop_table("case_events")
    with op.batch_alter_table("address_changes", recreate="never") as batch_op:
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("status")
    with op.batch_alter_table("handoffs", recreate="never") as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("taken_by")
        batch_op.drop_column("contact")
    with op.batch_alter_table("conversations", recreate="never") as batch_op:
        batch_op.drop_column("recording_consent")
        batch_op.drop_column("recording_path")
        batch_op.drop_column("outcome")
