"""the shop's data per language: product names and attribute values, translations of its texts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("translation", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_translations")),
        sa.UniqueConstraint("language", "text", name="uq_shop_translations_language_text"),
    )
    # Products stored before have no translations: empty, so they are said as written.
    with op.batch_alter_table("products") as batch_op:
        batch_op.add_column(sa.Column("names", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(
            sa.Column("attributes_i18n", sa.JSON(), server_default="{}", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("products", recreate="never") as batch_op:
        batch_op.drop_column("attributes_i18n")
        batch_op.drop_column("names")
    op.drop_table("shop_translations")
