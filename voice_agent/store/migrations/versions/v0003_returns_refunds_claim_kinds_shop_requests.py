"""the shop's return and refund records, claim kinds with photos needed, requests for the
shop, and orders found by phone number

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from voice_agent.store.models import ExactDecimal, UtcDateTime, phone_key

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "return_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_return_records_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_records")),
    )
    op.create_index(op.f("ix_return_records_order_id"), "return_records", ["order_id"])
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'paid', 'refused')", name=op.f("ck_refunds_status")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index(op.f("ix_refunds_order_id"), "refunds", ["order_id"])
    op.create_table(
        "shop_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("reply_by", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_shop_requests_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_shop_requests_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_shop_requests_reference")),
    )
    op.create_index(op.f("ix_shop_requests_conversation_id"), "shop_requests", ["conversation_id"])
    op.create_index(op.f("ix_shop_requests_order_id"), "shop_requests", ["order_id"])
    # Existing claims were all lost-parcel claims; nullable-free columns with server defaults
    # are added in place on SQLite.
    with op.batch_alter_table("claims") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="lost_parcel", nullable=False)
        )
        batch_op.add_column(
            sa.Column("photos_needed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("phone_tail", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_orders_phone_tail", ["phone_tail"], unique=False)
    orders = sa.table(
        "orders",
        sa.column("id", sa.Integer()),
        sa.column("phone", sa.String()),
        sa.column("phone_tail", sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(orders.c.id, orders.c.phone)).all()
    for row in rows:
        connection.execute(
            orders.update().where(orders.c.id == row.id).values(phone_tail=phone_key(row.phone))
        )


def downgrade() -> None:
    # In place (recreate="never"): copying a table on SQLite would cascade-delete its children.
    with op.batch_alter_table("orders", recreate="never") as batch_op:
        batch_op.drop_index("ix_orders_phone_tail")
        batch_op.drop_column("phone_tail")
    with op.batch_alter_table("claims", recreate="never") as batch_op:
        batch_op.drop_column("photos_needed")
        batch_op.drop_column("kind")
    op.drop_index(op.f("ix_shop_requests_order_id"), table_name="shop_requests")
    op.drop_index(op.f("ix_shop_requests_conversation_id"), table_name="shop_requests")
    op.drop_table("shop_requests")
    op.drop_index(op.f("ix_refunds_order_id"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_index(op.f("ix_return_records_order_id"), table_name="return_records")
    op.drop_table("return_records")
