"""outbound calls: a conversation's direction, purpose and the case it was placed about

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Conversations stored before were all calls to us.
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(
            sa.Column("direction", sa.String(length=10), server_default="inbound", nullable=False)
        )
        batch_op.add_column(sa.Column("purpose", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("case_reference", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", recreate="never") as batch_op:
        batch_op.drop_column("case_reference")
        batch_op.drop_column("purpose")
        batch_op.drop_column("direction")
