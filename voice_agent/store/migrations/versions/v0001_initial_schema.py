"""initial schema

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from voice_agent.store.models import ExactDecimal, UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("caller_id", sa.String(length=200), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("email", name=op.f("uq_customers_email")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    op.create_table(
        "order_locks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("until", UtcDateTime(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_order_locks_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_locks")),
    )
    op.create_index(op.f("ix_order_locks_conversation_id"), "order_locks", ["conversation_id"])
    op.create_index("ix_order_locks_order_number_until", "order_locks", ["order_number", "until"])

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("placed_at", UtcDateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("insured", sa.Boolean(), nullable=False),
        sa.Column("incoterm", sa.String(length=3), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.CheckConstraint("incoterm IN ('DDP', 'DAP', 'DDU')", name=op.f("ck_orders_incoterm")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
    )
    op.create_index(op.f("ix_orders_customer_id"), "orders", ["customer_id"])

    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=False),
        sa.Column("interrupted", sa.Boolean(), nullable=False),
        sa.Column("played_text", sa.Text(), nullable=True),
        sa.Column("latency_marks", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_turns_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turns")),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_turns_conversation_seq"),
    )
    op.create_table(
        "verification_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("factor", sa.String(length=32), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_verification_attempts_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_attempts")),
    )
    op.create_index(
        op.f("ix_verification_attempts_conversation_id"),
        "verification_attempts",
        ["conversation_id"],
    )
    op.create_index(
        "ix_verification_attempts_order_number_at", "verification_attempts", ["order_number", "at"]
    )

    op.create_table(
        "address_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("previous_address", sa.String(length=500), nullable=True),
        sa.Column("previous_postcode", sa.String(length=20), nullable=True),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_address_changes_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_address_changes_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_changes")),
    )
    op.create_index(
        op.f("ix_address_changes_conversation_id"), "address_changes", ["conversation_id"]
    )
    op.create_index(op.f("ix_address_changes_order_id"), "address_changes", ["order_id"])

    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("responsible_party", sa.String(length=200), nullable=False),
        sa.Column("evidence_held", sa.JSON(), nullable=False),
        sa.Column("evidence_missing", sa.JSON(), nullable=False),
        sa.Column("insured", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("promised_by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "stage IN ('pickup', 'export_customs', 'international', 'import_customs', 'last_mile')",
            name=op.f("ck_claims_stage"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_claims_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_claims_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("reference", name=op.f("uq_claims_reference")),
    )
    op.create_index(op.f("ix_claims_conversation_id"), "claims", ["conversation_id"])
    op.create_index(op.f("ix_claims_order_id"), "claims", ["order_id"])

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("callback_by", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_handoffs_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_handoffs_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
        sa.UniqueConstraint("reference", name=op.f("uq_handoffs_reference")),
    )
    op.create_index(op.f("ix_handoffs_conversation_id"), "handoffs", ["conversation_id"])
    op.create_index(op.f("ix_handoffs_order_id"), "handoffs", ["order_id"])

    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("price", ExactDecimal(), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_order_items_qty_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_items_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_order_items_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
        sa.UniqueConstraint("order_id", "line", name="uq_order_items_order_id_line"),
    )
    op.create_index(op.f("ix_order_items_product_id"), "order_items", ["product_id"])

    op.create_table(
        "return_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("skus", sa.JSON(), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_return_requests_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_return_requests_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_return_requests_reference")),
    )
    op.create_index(
        op.f("ix_return_requests_conversation_id"), "return_requests", ["conversation_id"]
    )
    op.create_index(op.f("ix_return_requests_order_id"), "return_requests", ["order_id"])

    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=100), nullable=False),
        sa.Column("last_mile", sa.String(length=100), nullable=True),
        sa.Column("tracking", sa.String(length=64), nullable=False),
        sa.Column("compensation", sa.Boolean(), nullable=False),
        sa.Column("expected_delivery", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_shipments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_shipments_order_id")),
    )
    op.create_index(op.f("ix_shipments_tracking"), "shipments", ["tracking"])

    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "stage IN ('pickup', 'export_customs', 'international', 'import_customs', 'last_mile')",
            name=op.f("ck_tracking_events_stage"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_tracking_events_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
    )
    op.create_index("ix_tracking_events_shipment_id_at", "tracking_events", ["shipment_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_tracking_events_shipment_id_at", table_name="tracking_events")

    op.drop_table("tracking_events")
    op.drop_index(op.f("ix_shipments_tracking"), table_name="shipments")

    op.drop_table("shipments")
    op.drop_index(op.f("ix_return_requests_order_id"), table_name="return_requests")
    op.drop_index(op.f("ix_return_requests_conversation_id"), table_name="return_requests")

    op.drop_table("return_requests")
    op.drop_index(op.f("ix_order_items_product_id"), table_name="order_items")

    op.drop_table("order_items")
    op.drop_index(op.f("ix_handoffs_order_id"), table_name="handoffs")
    op.drop_index(op.f("ix_handoffs_conversation_id"), table_name="handoffs")

    op.drop_table("handoffs")
    op.drop_index(op.f("ix_claims_order_id"), table_name="claims")
    op.drop_index(op.f("ix_claims_conversation_id"), table_name="claims")

    op.drop_table("claims")
    op.drop_index(op.f("ix_address_changes_order_id"), table_name="address_changes")
    op.drop_index(op.f("ix_address_changes_conversation_id"), table_name="address_changes")

    op.drop_table("address_changes")
    op.drop_index("ix_verification_attempts_order_number_at", table_name="verification_attempts")
    op.drop_index(
        op.f("ix_verification_attempts_conversation_id"), table_name="verification_attempts"
    )

    op.drop_table("verification_attempts")
    op.drop_table("turns")
    op.drop_index(op.f("ix_orders_customer_id"), table_name="orders")

    op.drop_table("orders")
    op.drop_index("ix_order_locks_order_number_until", table_name="order_locks")
    op.drop_index(op.f("ix_order_locks_conversation_id"), table_name="order_locks")

    op.drop_table("order_locks")
    op.drop_table("products")
    op.drop_table("customers")
    op.drop_table("conversations")
