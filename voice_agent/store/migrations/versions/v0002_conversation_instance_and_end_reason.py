"""conversations record the instance that ran them and why they ended

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns and an index: SQLite adds them in place, existing rows keep NULL.
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(sa.Column("instance_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.String(length=40), nullable=True))
        batch_op.create_index(
            "ix_conversations_instance_id_ended_at", ["instance_id", "ended_at"], unique=False
        )


def downgrade() -> None:
    # Not by copying the table on SQLite: dropping the old copy would delete every turn (ON
    # DELETE CASCADE). SQLite 3.35 and later drop a column in place.
    with op.batch_alter_table("conversations", recreate="never") as batch_op:
        batch_op.drop_index("ix_conversations_instance_id_ended_at")
        batch_op.drop_column("end_reason")
        batch_op.drop_column("instance_id")
