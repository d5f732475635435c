"""The store's one entry point for the agent: sync reads that return views, and writes.

Nothing here reads the wall clock: every time is passed in. Each public method is one
transaction; ``apply`` stores a whole batch of writes (one turn's) or nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from voice_agent.store.address_changes import change_address, unconfirmed_address_changes
from voice_agent.store.db import Database, StoreError
from voice_agent.store.models import (
    CatalogueVersion,
    Claim,
    Conversation,
    Customer,
    Handoff,
    Order,
    OrderItem,
    OrderLockRow,
    Product,
    Refund,
    ReturnRecord,
    ReturnRequestRow,
    Shipment,
    ShopRequestRow,
    ShopTranslation,
    TrackingEvent,
    Turn,
    VerificationAttemptRow,
    phone_key,
)
from voice_agent.store.outbox import outbox_row
from voice_agent.store.views import (
    CALL_OUTCOMES,
    AddressChangeView,
    ClaimView,
    ConversationView,
    CustomerView,
    EventView,
    HandoffView,
    Incoterm,
    ItemView,
    OrderView,
    ProductView,
    RefundStatus,
    RefundView,
    ReturnRecordView,
    ReturnView,
    ShipmentView,
    ShopRequestView,
    ShopTexts,
    Stage,
)
from voice_agent.store.writes import (
    SHOP_REQUEST_KINDS,
    AddressChange,
    ClaimWrite,
    HandoffWrite,
    OrderLock,
    RecordingRefused,
    ReturnRequest,
    ShopRequest,
    TurnRecord,
    TurnWrite,
    VerificationAttempt,
    Write,
)

logger = logging.getLogger(__name__)

ENDED = "ended"
INSTANCE_RESTARTED = "instance restarted"
"""A conversation's end reasons: it ended, or the next start of its instance closed it."""


class WriteError(StoreError):
    """A batch of writes was refused; nothing of it was stored."""


class Repository:
    def __init__(self, database: Database) -> None:
        self.database = database

    # --- reads the dialogue engine makes -------------------------------------------------

    def find_order(self, number: str) -> OrderView | None:
        # Indexed Core queries, no ORM objects: this is on every turn's critical path.
        with self.database.transaction() as session:
            head = session.execute(_ORDER_HEAD.where(Order.number == number)).one_or_none()
            if head is None:
                return None
            items = session.execute(_ORDER_ITEMS.where(OrderItem.order_id == head.id)).all()
            events: Sequence[Any] = ()
            if head.shipment_id is not None:
                query = _SHIPMENT_EVENTS.where(TrackingEvent.shipment_id == head.shipment_id)
                events = session.execute(query).all()
            returns = session.execute(_RETURNS.where(ReturnRecord.order_id == head.id)).all()
            refunds = session.execute(_REFUNDS.where(Refund.order_id == head.id)).all()
        view = _order_view(head, items, events)
        return replace(
            view,
            returns=tuple(ReturnRecordView(row.requested_at, row.received_at) for row in returns),
            refunds=tuple(
                RefundView(row.amount, cast(RefundStatus, row.status), row.at) for row in refunds
            ),
        )

    def orders_by_phone(self, phone: str) -> list[str]:
        """The numbers of the orders placed with this phone number, newest first (matched on
        its last digits, so "+49 30 5550 1234" and "030 55501234" are the same number)."""
        key = phone_key(phone)
        if len(key) < 6:
            return []
        query = (
            select(Order.number)
            .where(Order.phone_tail == key)
            .order_by(Order.placed_at.desc(), Order.id.desc())
        )
        with self.database.transaction() as session:
            return list(session.scalars(query))

    def orders_by_email(self, email: str) -> list[str]:
        """The numbers of the orders of the customer with this e-mail address, newest first."""
        query = (
            select(Order.number)
            .join(Customer, Order.customer_id == Customer.id)
            .where(Customer.email == email.strip().lower())
            .order_by(Order.placed_at.desc(), Order.id.desc())
        )
        with self.database.transaction() as session:
            return list(session.scalars(query))

    def products(self) -> list[ProductView]:
        with self.database.transaction() as session:
            rows = session.scalars(select(Product).order_by(Product.sku))
            return [
                ProductView(
                    row.sku,
                    row.name,
                    dict(row.attributes),
                    names=dict(row.names or {}),
                    attributes_i18n={
                        language: dict(values)
                        for language, values in (row.attributes_i18n or {}).items()
                    },
                )
                for row in rows
            ]

    def catalogue_version(self) -> int:
        """Bumped by every import of the shop's data (0: none since the table was made)."""
        with self.database.transaction() as session:
            version = session.scalar(
                select(CatalogueVersion.version).where(CatalogueVersion.id == 1)
            )
        return version or 0

    def shop_texts(self) -> ShopTexts:
        """The shop's translations of its texts (event texts, evidence names), all languages."""
        with self.database.transaction() as session:
            rows = session.execute(
                select(ShopTranslation.language, ShopTranslation.text, ShopTranslation.translation)
            ).all()
        tables: dict[str, dict[str, str]] = {}
        for language, text, translation in rows:
            tables.setdefault(language, {})[text] = translation
        return ShopTexts.of(tables)

    def failed_attempts(self, order_number: str, since: datetime) -> int:
        """Failed verification attempts on this order number at or after ``since``."""
        query = select(func.count(VerificationAttemptRow.id)).where(
            VerificationAttemptRow.order_number == order_number,
            VerificationAttemptRow.success.is_(False),
            VerificationAttemptRow.at >= since,
        )
        with self.database.transaction() as session:
            return session.scalar(query) or 0

    def recent_failures(self, order_number: str, since: datetime) -> list[VerificationAttempt]:
        """Failed verification attempts on this order number at or after ``since`` and after
        the last time an operator lifted a lock on it (those before count no more)."""
        lifted = (
            select(func.max(OrderLockRow.lifted_at))
            .where(OrderLockRow.order_number == order_number)
            .scalar_subquery()
        )
        query = (
            select(VerificationAttemptRow)
            .where(
                VerificationAttemptRow.order_number == order_number,
                VerificationAttemptRow.success.is_(False),
                VerificationAttemptRow.at >= since,
                or_(lifted.is_(None), VerificationAttemptRow.at > lifted),
            )
            .order_by(VerificationAttemptRow.at, VerificationAttemptRow.id)
        )
        with self.database.transaction() as session:
            return [_attempt(row) for row in session.scalars(query)]

    def locks(self, order_number: str, now: datetime) -> list[OrderLock]:
        """The locks on this order number running at ``now`` and not lifted, latest end first:
        order-wide ones (``caller`` None) and those of single callers."""
        query = (
            select(OrderLockRow)
            .where(
                OrderLockRow.order_number == order_number,
                OrderLockRow.until > now,
                OrderLockRow.lifted_at.is_(None),
            )
            .order_by(OrderLockRow.until.desc(), OrderLockRow.id)
        )
        with self.database.transaction() as session:
            return [_lock(row) for row in session.scalars(query)]

    def locked_until(
        self, order_number: str, now: datetime, caller: str | None = None
    ) -> datetime | None:
        """The end of the latest lock running at ``now`` that holds for ``caller`` (an
        order-wide lock, or that caller's own); with no caller, order-wide locks only."""
        ends = [
            lock.until
            for lock in self.locks(order_number, now)
            if lock.caller is None or lock.caller == caller
        ]
        return max(ends, default=None)

    # --- writes ----------------------------------------------------------------------------

    def apply(self, writes: Sequence[Write]) -> None:
        """Store every write, in one transaction; on any failure store none (WriteError)."""
        if not writes:
            return
        try:
            with self.database.transaction(write=True) as session:
                for write in writes:
                    _apply_one(session, write)
                session.flush()
        except SQLAlchemyError as error:
            raise WriteError(f"writes refused: {_reason(error)}") from error
        logger.debug("applied %d writes", len(writes))

    def start_conversation(
        self,
        channel: str,
        caller_id: str | None,
        started_at: datetime,
        *,
        instance_id: str | None = None,
        purpose: str | None = None,
        case_reference: str | None = None,
    ) -> int:
        """A new open conversation; a server passes its instance id, so that its next start
        can close what this run leaves open if it dies. A call the agent placed has its
        ``purpose`` (and the case it is about): it is stored as outbound."""
        with self.database.transaction(write=True) as session:
            conversation = Conversation(
                channel=channel,
                caller_id=caller_id,
                started_at=started_at,
                ended_at=None,
                instance_id=instance_id,
                direction="inbound" if purpose is None else "outbound",
                purpose=purpose,
                case_reference=case_reference,
            )
            session.add(conversation)
            session.flush()
            return conversation.id

    def end_conversation(
        self, conversation_id: int, ended_at: datetime, outcome: str | None = None
    ) -> None:
        """Mark the conversation ended; ``outcome`` is one of CALL_OUTCOMES."""
        if outcome is not None and outcome not in CALL_OUTCOMES:
            raise WriteError(f"outcome {outcome!r} is not one of {', '.join(CALL_OUTCOMES)}")
        with self.database.transaction(write=True) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise WriteError(f"no conversation {conversation_id}")
            conversation.ended_at = ended_at
            conversation.end_reason = ENDED
            conversation.outcome = outcome

    def set_recording(self, conversation_id: int, path: str | None, consent: bool) -> None:
        """The call's recording (``path`` relative to the recordings folder), or none: the
        caller objected (``consent`` False) and nothing of the call was kept."""
        with self.database.transaction(write=True) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise WriteError(f"no conversation {conversation_id}")
            conversation.recording_path = path
            conversation.recording_consent = consent

    def close_abandoned_conversations(self, instance_id: str, now: datetime) -> int:
        """End the conversations of `instance_id` still open, as "instance restarted"; returns
        how many. Only at that instance's start-up: an earlier run died (kill -9, a crash, a
        power cut) before ending them. Other instances' open conversations are calls they run."""
        query = (
            update(Conversation)
            .where(Conversation.instance_id == instance_id, Conversation.ended_at.is_(None))
            .values(ended_at=now, end_reason=INSTANCE_RESTARTED)
        )
        with self.database.transaction(write=True) as session:
            result = session.execute(query, execution_options={"synchronize_session": False})
            return cast(CursorResult[Any], result).rowcount

    def lift_locks(self, order_number: str, now: datetime) -> list[OrderLock]:
        """Lift every lock on this order number running at ``now`` (an operator's decision:
        `voice-agent data unlock`); failed attempts before ``now`` count no more. Returns the
        locks lifted (none: nothing was running, and nothing changes)."""
        query = select(OrderLockRow).where(
            OrderLockRow.order_number == order_number,
            OrderLockRow.until > now,
            OrderLockRow.lifted_at.is_(None),
        )
        with self.database.transaction(write=True) as session:
            rows = list(session.scalars(query.order_by(OrderLockRow.id)))
            for row in rows:
                row.lifted_at = now
            return [_lock(row) for row in rows]

    def add_turn(self, conversation_id: int, record: TurnRecord) -> int:
        try:
            with self.database.transaction(write=True) as session:
                return _add_turn(session, conversation_id, record).id
        except SQLAlchemyError as error:
            raise WriteError(f"turn refused: {_reason(error)}") from error

    # --- reads for tests and operators -------------------------------------------------------

    def turns(self, conversation_id: int) -> list[TurnRecord]:
        query = select(Turn).where(Turn.conversation_id == conversation_id).order_by(Turn.seq)
        with self.database.transaction() as session:
            return [_turn_record(row) for row in session.scalars(query)]

    def conversations(self) -> list[ConversationView]:
        with self.database.transaction() as session:
            rows = session.scalars(select(Conversation).order_by(Conversation.id))
            return [
                ConversationView(
                    row.id,
                    row.channel,
                    row.caller_id,
                    row.started_at,
                    row.ended_at,
                    row.instance_id,
                    row.end_reason,
                    row.outcome,
                    row.recording_path,
                    row.recording_consent,
                    row.direction,
                    row.purpose,
                    row.case_reference,
                )
                for row in rows
            ]

    def claims(self, order_number: str | None = None) -> list[ClaimView]:
        query = select(Claim).join(Claim.order).options(selectinload(Claim.order))
        if order_number is not None:
            query = query.where(Order.number == order_number)
        with self.database.transaction() as session:
            return [_claim_view(row) for row in session.scalars(query.order_by(Claim.id))]

    def handoffs(self) -> list[HandoffView]:
        query = select(Handoff).options(selectinload(Handoff.order)).order_by(Handoff.id)
        with self.database.transaction() as session:
            return [_handoff_view(row) for row in session.scalars(query)]

    def return_requests(self, order_number: str | None = None) -> list[ReturnView]:
        query = select(ReturnRequestRow).join(ReturnRequestRow.order)
        if order_number is not None:
            query = query.where(Order.number == order_number)
        query = query.options(selectinload(ReturnRequestRow.order)).order_by(ReturnRequestRow.id)
        with self.database.transaction() as session:
            return [_return_view(row) for row in session.scalars(query)]

    def shop_requests(self, order_number: str | None = None) -> list[ShopRequestView]:
        query = select(ShopRequestRow).options(selectinload(ShopRequestRow.order))
        if order_number is not None:
            query = query.join(ShopRequestRow.order).where(Order.number == order_number)
        with self.database.transaction() as session:
            rows = session.scalars(query.order_by(ShopRequestRow.id))
            return [_shop_request_view(row) for row in rows]

    def unconfirmed_address_changes(self) -> list[AddressChangeView]:
        """Address changes the shop has not confirmed yet (an import keeps them), oldest first."""
        with self.database.transaction() as session:
            return unconfirmed_address_changes(session)

    def verification_attempts(self, order_number: str) -> list[VerificationAttempt]:
        query = (
            select(VerificationAttemptRow)
            .where(VerificationAttemptRow.order_number == order_number)
            .order_by(VerificationAttemptRow.at, VerificationAttemptRow.id)
        )
        with self.database.transaction() as session:
            return [_attempt(row) for row in session.scalars(query)]

    def reference_taken(self, reference: str) -> bool:
        """Whether a claim, hand-off, return request or shop request already carries this
        reference."""
        with self.database.transaction() as session:
            return any(
                session.scalar(select(func.count()).where(column == reference))
                for column in (
                    Claim.reference,
                    Handoff.reference,
                    ReturnRequestRow.reference,
                    ShopRequestRow.reference,
                )
            )


def _reason(error: SQLAlchemyError) -> str:
    # The driver's own message (the constraint broken, the bad value) without the SQL text.
    cause = getattr(error, "orig", None) or error.__cause__ or error
    return str(cause).strip().splitlines()[0]


# --- writing ---------------------------------------------------------------------------------


def _apply_one(session: Session, write: Write) -> None:
    match write:
        case VerificationAttempt():
            session.add(
                VerificationAttemptRow(
                    order_number=write.order_number,
                    factor=write.factor,
                    success=write.success,
                    at=write.at,
                    conversation_id=write.conversation_id,
                    caller=write.caller,
                    near_miss=write.near_miss,
                )
            )
        case OrderLock():
            session.add(
                OrderLockRow(
                    order_number=write.order_number,
                    until=write.until,
                    conversation_id=write.conversation_id,
                    caller=write.caller,
                )
            )
        case ClaimWrite():
            session.add(_claim_row(session, write))
        case HandoffWrite():
            session.add(_handoff_row(session, write))
        case ReturnRequest():
            session.add(
                ReturnRequestRow(
                    reference=write.reference,
                    order_id=_order(session, write.order_number, "return request").id,
                    reason=write.reason,
                    skus=list(write.skus),
                    requested_at=write.requested_at,
                    status="open",
                    conversation_id=write.conversation_id,
                )
            )
        case ShopRequest():
            if write.kind not in SHOP_REQUEST_KINDS:
                raise WriteError(f"request {write.reference}: no such kind {write.kind!r}")
            order_id = None
            if write.order_number is not None:
                what = f"{write.kind} request {write.reference}"
                order_id = _order(session, write.order_number, what).id
            session.add(
                ShopRequestRow(
                    reference=write.reference,
                    kind=write.kind,
                    order_id=order_id,
                    details=write.details,
                    requested_at=write.requested_at,
                    reply_by=write.reply_by,
                    status="open",
                    conversation_id=write.conversation_id,
                )
            )
        case AddressChange():
            change_address(session, _order(session, write.order_number, "address change"), write)
        case TurnWrite():
            _add_turn(session, write.conversation_id, write.record)
        case RecordingRefused():
            conversation = session.get(Conversation, write.conversation_id)
            if conversation is None:
                raise WriteError(f"no conversation {write.conversation_id}")
            conversation.recording_path = None
            conversation.recording_consent = False
    # The action's event for the shop, in the action's own transaction (store/outbox.py).
    event = outbox_row(write)
    if event is not None:
        session.add(event)
    # Flush each write so that a refusal is raised here, naming the write that caused it.
    session.flush()


def _order(session: Session, number: str, what: str) -> Order:
    order = session.scalars(select(Order).where(Order.number == number)).one_or_none()
    if order is None:
        raise WriteError(f"{what} for order {number!r}: no such order")
    return order


def _claim_row(session: Session, write: ClaimWrite) -> Claim:
    return Claim(
        reference=write.reference,
        order_id=_order(session, write.order_number, f"claim {write.reference}").id,
        stage=write.stage,
        responsible_party=write.responsible_party,
        evidence_held=list(write.evidence_held),
        evidence_missing=list(write.evidence_missing),
        insured=write.insured,
        outcome=write.outcome,
        promised_by=write.promised_by,
        status=write.status,
        opened_at=write.opened_at,
        conversation_id=write.conversation_id,
        kind=write.kind,
        photos_needed=write.photos_needed,
    )


def _handoff_row(session: Session, write: HandoffWrite) -> Handoff:
    order_id = None
    if write.order_number is not None:
        order_id = _order(session, write.order_number, f"hand-off {write.reference}").id
    return Handoff(
        reference=write.reference,
        reason=write.reason,
        transcript=write.transcript,
        facts=dict(write.facts),
        callback_by=write.callback_by,
        created_at=write.created_at,
        status="open",
        order_id=order_id,
        conversation_id=write.conversation_id,
        contact=write.contact,
    )


def _add_turn(session: Session, conversation_id: int, record: TurnRecord) -> Turn:
    if session.get(Conversation, conversation_id) is None:
        raise WriteError(f"turn for conversation {conversation_id}: no such conversation")
    last = session.scalar(select(func.max(Turn.seq)).where(Turn.conversation_id == conversation_id))
    turn = Turn(
        conversation_id=conversation_id,
        seq=(last or 0) + 1,
        speaker=record.speaker,
        text=record.text,
        started_at=record.started_at,
        ended_at=record.ended_at,
        interrupted=record.interrupted,
        played_text=record.played_text,
        latency_marks={name: float(value) for name, value in record.latency_marks.items()},
    )
    session.add(turn)
    session.flush()
    return turn


# --- reading -----------------------------------------------------------------------------------


_ORDER_HEAD = (
    select(
        Order.id,
        Order.number,
        Order.placed_at,
        Order.currency,
        Order.insured,
        Order.incoterm,
        Order.phone,
        Order.postcode,
        Order.country,
        Order.address,
        Customer.name,
        Customer.email,
        Shipment.id.label("shipment_id"),
        Shipment.carrier,
        Shipment.last_mile,
        Shipment.tracking,
        Shipment.compensation,
        Shipment.expected_delivery,
    )
    .join(Customer, Order.customer_id == Customer.id)
    .outerjoin(Shipment, Shipment.order_id == Order.id)
)
_ORDER_ITEMS = (
    select(Product.sku, Product.name, OrderItem.qty, OrderItem.price)
    .join(Product, OrderItem.product_id == Product.id)
    .order_by(OrderItem.line)
)
_RETURNS = select(ReturnRecord.requested_at, ReturnRecord.received_at).order_by(
    ReturnRecord.requested_at, ReturnRecord.id
)
_REFUNDS = select(Refund.amount, Refund.status, Refund.at).order_by(Refund.at, Refund.id)
_SHIPMENT_EVENTS = select(
    TrackingEvent.at, TrackingEvent.stage, TrackingEvent.place, TrackingEvent.text
).order_by(TrackingEvent.at, TrackingEvent.id)


def _order_view(head: Any, items: Sequence[Any], events: Sequence[Any]) -> OrderView:
    """An order view from the rows of the three queries above."""
    customer = CustomerView(
        name=head.name,
        email=head.email,
        phone=head.phone,
        postcode=head.postcode,
        country=head.country,
        address=head.address,
    )
    shipment = None
    if head.shipment_id is not None:
        shipment = ShipmentView(
            carrier=head.carrier,
            last_mile=head.last_mile,
            tracking=head.tracking,
            compensation=head.compensation,
            events=tuple(EventView(row.at, row.stage, row.place, row.text) for row in events),
            expected_delivery=head.expected_delivery,
        )
    return OrderView(
        number=head.number,
        placed_at=head.placed_at,
        currency=head.currency,
        insured=head.insured,
        incoterm=cast(Incoterm, head.incoterm),
        customer=customer,
        items=tuple(ItemView(row.sku, row.name, row.qty, row.price) for row in items),
        shipment=shipment,
    )


def _attempt(row: VerificationAttemptRow) -> VerificationAttempt:
    return VerificationAttempt(
        order_number=row.order_number,
        factor=row.factor,
        success=row.success,
        at=row.at,
        conversation_id=row.conversation_id,
        caller=row.caller,
        near_miss=row.near_miss,
    )


def _lock(row: OrderLockRow) -> OrderLock:
    return OrderLock(
        order_number=row.order_number,
        until=row.until,
        conversation_id=row.conversation_id,
        caller=row.caller,
    )


def _turn_record(row: Turn) -> TurnRecord:
    return TurnRecord(
        speaker=row.speaker,
        text=row.text,
        started_at=row.started_at,
        ended_at=row.ended_at,
        interrupted=row.interrupted,
        played_text=row.played_text,
        latency_marks=dict(row.latency_marks),
    )


def _claim_view(row: Claim) -> ClaimView:
    return ClaimView(
        reference=row.reference,
        order_number=row.order.number,
        stage=cast(Stage, row.stage),
        responsible_party=row.responsible_party,
        evidence_held=tuple(row.evidence_held),
        evidence_missing=tuple(row.evidence_missing),
        insured=row.insured,
        outcome=row.outcome,
        promised_by=row.promised_by,
        status=row.status,
        opened_at=row.opened_at,
        conversation_id=row.conversation_id,
        kind=row.kind,
        photos_needed=row.photos_needed,
    )


def _shop_request_view(row: ShopRequestRow) -> ShopRequestView:
    return ShopRequestView(
        reference=row.reference,
        kind=row.kind,
        order_number=None if row.order is None else row.order.number,
        details=row.details,
        requested_at=row.requested_at,
        reply_by=row.reply_by,
        status=row.status,
        conversation_id=row.conversation_id,
    )


def _handoff_view(row: Handoff) -> HandoffView:
    return HandoffView(
        reference=row.reference,
        reason=row.reason,
        transcript=row.transcript,
        facts=dict(row.facts),
        callback_by=row.callback_by,
        created_at=row.created_at,
        order_number=None if row.order is None else row.order.number,
        conversation_id=row.conversation_id,
        status=row.status,
        contact=row.contact,
        taken_by=row.taken_by,
        closed_at=row.closed_at,
    )


def _return_view(row: ReturnRequestRow) -> ReturnView:
    return ReturnView(
        reference=row.reference,
        order_number=row.order.number,
        reason=row.reason,
        skus=tuple(row.skus),
        requested_at=row.requested_at,
        status=row.status,
        conversation_id=row.conversation_id,
    )
