"""SQLAlchemy ORM models; only the store package uses them (readers get views.py values).

Portable across SQLite and PostgreSQL: times are stored as UTC (``UtcDateTime``) and money as
exact decimals (``ExactDecimal``), whatever the backend does natively.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeEngine

from voice_agent.store.views import INCOTERMS, OPERATOR_ROLES, REFUND_STATUSES, STAGES

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


STAGE_CHECK = _one_of("stage", STAGES)
INCOTERM_CHECK = _one_of("incoterm", INCOTERMS)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out; naive datetimes are refused.

    SQLite has no time zones, so it stores the naive UTC time; PostgreSQL a timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: the store needs a time zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC on PostgreSQL; text on SQLite, whose NUMERIC would round through a float."""

    impl = Numeric(14, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(14, 4))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # PostgreSQL pads to the column's scale (19.9000); give back the normal form.
        exact = Decimal(str(value))
        return exact.quantize(Decimal(1)) if exact == exact.to_integral() else exact.normalize()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        Decimal: ExactDecimal,
        date: Date,
    }


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Lower-cased; one customer per e-mail address."""
    name: Mapped[str] = mapped_column(String(200))

    orders: Mapped[list[Order]] = relationship(back_populates="customer")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[dict[str, str]] = mapped_column(JSON)
    names: Mapped[dict[str, str]] = mapped_column(JSON, server_default="{}")
    """The shop's name for the product per language code, where given."""
    attributes_i18n: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, server_default="{}")
    """Attribute values per language code, where given."""


class ShopTranslation(Base):
    """One of the shop's texts (a carrier's event text, an evidence name) in one language."""

    __tablename__ = "shop_translations"
    __table_args__ = (
        UniqueConstraint("language", "text", name="uq_shop_translations_language_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(String(500))
    """As the shop stores it (in its events, its policy)."""
    translation: Mapped[str] = mapped_column(String(500))


class CatalogueVersion(Base):
    """One row: bumped by every import of the shop's data, so that each instance sharing the
    database reads its catalogue and translations again (dialogue/shop_data.py)."""

    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (CheckConstraint(INCOTERM_CHECK, name="incoterm"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    placed_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    insured: Mapped[bool] = mapped_column(Boolean)
    incoterm: Mapped[str] = mapped_column(String(3))
    # The contact and shipping details given with this order (they may differ between orders).
    phone: Mapped[str] = mapped_column(String(40))
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    address: Mapped[str | None] = mapped_column(String(500))
    phone_tail: Mapped[str | None] = mapped_column(String(20), index=True)
    """The phone number's last digits (``phone_key``): finds an order by the caller's number,
    whether it is written with a country code or without."""

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.line"
    )
    shipment: Mapped[Shipment | None] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )
    return_records: Mapped[list[ReturnRecord]] = relationship(
        cascade="all, delete-orphan", order_by="ReturnRecord.requested_at"
    )
    refunds: Mapped[list[Refund]] = relationship(cascade="all, delete-orphan", order_by="Refund.at")


PHONE_TAIL_DIGITS = 9
"""Enough digits to tell phone numbers apart, few enough to leave out any country code."""


def phone_key(phone: str) -> str:
    """The last digits of a phone number, however it is written ("+49 30 5550 1234",
    "030 55501234" and "sip:+493055501234@host" give the same key)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-PHONE_TAIL_DIGITS:]


class ReturnRecord(Base):
    """A return in the shop's own records (imported): asked for, and received back."""

    __tablename__ = "return_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime]
    received_at: Mapped[datetime | None]


REFUND_STATUS_CHECK = _one_of("status", REFUND_STATUSES)


class Refund(Base):
    """A refund in the shop's own records (imported): how much, where it stands, since when."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint(REFUND_STATUS_CHECK, name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    """When the refund reached its status (paid: the day it was paid)."""


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        UniqueConstraint("order_id", "line", name="uq_order_items_order_id_line"),
        CheckConstraint("qty > 0", name="qty_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal]

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    carrier: Mapped[str] = mapped_column(String(100))
    last_mile: Mapped[str | None] = mapped_column(String(100))
    tracking: Mapped[str] = mapped_column(String(64), index=True)
    compensation: Mapped[bool] = mapped_column(Boolean)
    expected_delivery: Mapped[date | None]

    order: Mapped[Order] = relationship(back_populates="shipment")
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment",
        cascade="all, delete-orphan",
        order_by="(TrackingEvent.at, TrackingEvent.id)",
    )


class TrackingEvent(Base):
    __tablename__ = "tracking_events"
    __table_args__ = (
        CheckConstraint(STAGE_CHECK, name="stage"),
        Index("ix_tracking_events_shipment_id_at", "shipment_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    stage: Mapped[str] = mapped_column(String(20))
    place: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(String(500))

    shipment: Mapped[Shipment] = relationship(back_populates="events")


class Conversation(Base):
    __tablename__ = "conversations"
    # Start-up looks for its own instance's conversations left open.
    __table_args__ = (Index("ix_conversations_instance_id_ended_at", "instance_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    """"webrtc", "sip", "chat", ..."""
    caller_id: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    instance_id: Mapped[str | None] = mapped_column(String(100))
    """The server instance that ran the call (several may share a database); None outside one."""
    end_reason: Mapped[str | None] = mapped_column(String(40))
    """"ended", or "instance restarted" when start-up closed it after its run died."""
    outcome: Mapped[str | None] = mapped_column(String(20))
    """How the call went (CALL_OUTCOMES): "completed", "handoff", "no_speech", "error"."""
    recording_path: Mapped[str | None] = mapped_column(String(500))
    """The call's audio, relative to the recordings folder; None: not recorded."""
    recording_consent: Mapped[bool | None] = mapped_column(Boolean)
    """None: recordings were off; True: told and recorded; False: the caller objected."""
    direction: Mapped[str] = mapped_column(String(10), server_default="inbound")
    """"inbound": the caller called us; "outbound": the agent placed the call."""
    purpose: Mapped[str | None] = mapped_column(String(40))
    """Why the agent placed the call ("claim-update"); None on inbound calls."""
    case_reference: Mapped[str | None] = mapped_column(String(32))
    """The case the call was placed about (a claim's reference)."""

    turns: Mapped[list[Turn]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Turn.seq"
    )


class Turn(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("conversation_id", "seq", name="uq_turns_conversation_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    interrupted: Mapped[bool] = mapped_column(Boolean)
    played_text: Mapped[str | None] = mapped_column(Text)
    latency_marks: Mapped[dict[str, float]] = mapped_column(JSON)

    conversation: Mapped[Conversation] = relationship(back_populates="turns")


class VerificationAttemptRow(Base):
    """Keyed by the order number as said: attempts on numbers that do not exist count too."""

    __tablename__ = "verification_attempts"
    __table_args__ = (Index("ix_verification_attempts_order_number_at", "order_number", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(64))
    factor: Mapped[str] = mapped_column(String(32))
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime]
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    caller: Mapped[str | None] = mapped_column(String(200))
    """The caller's key (docs/verification.md); NULL for attempts stored before 0004."""
    near_miss: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class OrderLockRow(Base):
    __tablename__ = "order_locks"
    __table_args__ = (Index("ix_order_locks_order_number_until", "order_number", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime]
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    caller: Mapped[str | None] = mapped_column(String(200))
    """The one caller locked out; NULL: every caller (the order-wide limit)."""
    lifted_at: Mapped[datetime | None]
    """When an operator lifted the lock (`voice-agent data unlock`); attempts before count no
    more."""


class Claim(Base):
    """One claim type for every kind: a lost parcel, one delivered but not received, and a
    damaged, wrong or missing item (CLAIM_KINDS)."""

    __tablename__ = "claims"
    __table_args__ = (CheckConstraint(STAGE_CHECK, name="stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), server_default="lost_parcel")
    photos_needed: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """The shop must ask the shopper for photos (of the item, of the label) before deciding."""
    stage: Mapped[str] = mapped_column(String(20))
    responsible_party: Mapped[str] = mapped_column(String(200))
    evidence_held: Mapped[list[str]] = mapped_column(JSON)
    evidence_missing: Mapped[list[str]] = mapped_column(JSON)
    insured: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(Text)
    promised_by: Mapped[date]
    status: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime]
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )

    order: Mapped[Order] = relationship()


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    transcript: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, str]] = mapped_column(JSON)
    callback_by: Mapped[datetime]
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    """One of HANDOFF_STATUSES: "open", "taken", "closed"."""
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    contact: Mapped[str | None] = mapped_column(String(200))
    """How to reach the caller back: a phone number or an e-mail address, as read back."""
    taken_by: Mapped[str | None] = mapped_column(String(64))
    """The operator (desk user name) who took it."""
    closed_at: Mapped[datetime | None]

    order: Mapped[Order | None] = relationship()


class ReturnRequestRow(Base):
    __tablename__ = "return_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    skus: Mapped[list[str]] = mapped_column(JSON)
    requested_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )

    order: Mapped[Order] = relationship()


class ShopRequestRow(Base):
    """Something the agent cannot do itself, recorded for the shop's team: a cancellation, an
    invoice, a double charge to look into, a complaint, a tracking link to send (``kind``)."""

    __tablename__ = "shop_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    details: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]
    reply_by: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )

    order: Mapped[Order | None] = relationship()


class AddressChangeRow(Base):
    __tablename__ = "address_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    address: Mapped[str] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(20))
    previous_address: Mapped[str | None] = mapped_column(String(500))
    previous_postcode: Mapped[str | None] = mapped_column(String(20))
    requested_at: Mapped[datetime]
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), server_default="unconfirmed")
    """One of ADDRESS_CHANGE_STATUSES: until the shop confirms it, an import keeps it."""
    confirmed_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship()


class Operator(Base):
    """A member of the shop's team who signs in to the desk."""

    __tablename__ = "operators"
    __table_args__ = (CheckConstraint(_one_of("role", OPERATOR_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    """argon2id, with its parameters and salt (argon2-cffi's encoded form)."""
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())


class DeskSession(Base):
    """A signed-in browser: the cookie holds the token, the store only its SHA-256."""

    __tablename__ = "desk_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class OutboxRow(Base):
    """An action for the shop, written in the transaction of the action itself and delivered
    later (at least once) as a signed webhook; ``event_id`` is the idempotency key."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_delivered_at_next_attempt_at", "delivered_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    """What happened: "claim.opened", "handoff.created", "address.changed", ..."""
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )


class CaseEventRow(Base):
    """What the shop's team did with a case at the desk: took it, noted, changed its status."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_kind_case_id", "case_kind", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_kind: Mapped[str] = mapped_column(String(20))
    """One of CASE_KINDS: "handoff", "claim", "return", "shop_request", "address_change"."""
    case_id: Mapped[int] = mapped_column(Integer)
    """The case's row id in its own table."""
    operator: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))
    """"take", "note" or "status"."""
    status: Mapped[str | None] = mapped_column(String(20))
    """The new status, for a status change."""
    text: Mapped[str] = mapped_column(Text, server_default="")
    at: Mapped[datetime]
