"""verification attempts and order locks record the caller; near misses; operators lift locks

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from voice_agent.store.models import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns (and one with a server default): SQLite adds them in place. Attempts
    # stored before have no caller: they count toward the order's limit, and for no caller.
    with op.batch_alter_table("verification_attempts") as batch_op:
        batch_op.add_column(sa.Column("caller", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("near_miss", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Locks stored before have no caller: they held for every caller, and still do.
    with op.batch_alter_table("order_locks") as batch_op:
        batch_op.add_column(sa.Column("caller", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("lifted_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_locks", recreate="never") as batch_op:
        batch_op.drop_column("lifted_at")
        batch_op.drop_column("caller")
    with op.batch_alter_table("verification_attempts", recreate="never") as batch_op:
        batch_op.drop_column("near_miss")
        batch_op.drop_column("caller")
