"""The desk's call history: search, one call in full, and the rows statistics are made of.

A call "touches" an order when it tried to verify it or opened anything on it (a claim, a
return, a shop request, an address change, a hand-off); searching by phone or e-mail finds
the calls that touched the orders with that phone or e-mail, and the calls whose caller id or
hand-off contact is it. Only the outcome of a verification is ever read, never its value.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, union
from sqlalchemy.orm import Session

from voice_agent.store.db import Database
from voice_agent.store.desk import DeskError
from voice_agent.store.desk_actions import call_actions
from voice_agent.store.desk_views import (
    CallDetail,
    CallPage,
    CallQuery,
    CallSummary,
    StatsRows,
    TranscriptTurn,
)
from voice_agent.store.models import (
    AddressChangeRow,
    Claim,
    Conversation,
    Customer,
    Handoff,
    Order,
    OrderLockRow,
    ReturnRequestRow,
    ShopRequestRow,
    Turn,
    VerificationAttemptRow,
    phone_key,
)

MAX_PER_PAGE = 100
_ORDER_CASES = (Claim, ReturnRequestRow, ShopRequestRow, AddressChangeRow, Handoff)
_PHONE_PUNCTUATION = (" ", "-", "+", "(", ")", ".", "/")


class CallHistory:
    def __init__(self, database: Database) -> None:
        self.database = database

    def search(self, query: CallQuery) -> CallPage:
        """Calls matching every filter given, newest first, one page of them."""
        page, per_page = max(1, query.page), min(max(1, query.per_page), MAX_PER_PAGE)
        conditions = _conditions(query)
        found = select(Conversation).where(*conditions)
        counted = select(func.count()).select_from(Conversation).where(*conditions)
        with self.database.transaction() as session:
            total = session.scalar(counted) or 0
            rows = list(
                session.scalars(
                    found.order_by(Conversation.started_at.desc(), Conversation.id.desc())
                    .limit(per_page)
                    .offset((page - 1) * per_page)
                )
            )
            summaries = _summaries(session, rows)
        return CallPage(tuple(summaries), total, page, per_page)

    def detail(self, conversation_id: int) -> CallDetail:
        with self.database.transaction() as session:
            row = session.get(Conversation, conversation_id)
            if row is None:
                raise DeskError(f"no call {conversation_id}")
            turns = session.scalars(
                select(Turn).where(Turn.conversation_id == conversation_id).order_by(Turn.seq)
            )
            return CallDetail(
                summary=_summaries(session, [row])[0],
                end_reason=row.end_reason,
                recording_path=row.recording_path,
                recording_consent=row.recording_consent,
                turns=tuple(_transcript_turn(turn) for turn in turns),
                actions=tuple(call_actions(session, conversation_id)),
            )

    def stats_rows(self, since: datetime, until: datetime) -> StatsRows:
        """What happened in calls started in [since, until)."""
        in_range = Conversation.started_at.between(since, until - timedelta(microseconds=1))
        first_audio = (
            select(Turn.started_at, Turn.latency_marks)
            .join(Conversation, Turn.conversation_id == Conversation.id)
            .where(in_range, Turn.speaker == "agent")
        )
        lock_times = (
            select(func.coalesce(Conversation.started_at, OrderLockRow.until))
            .select_from(OrderLockRow)
            .outerjoin(Conversation, OrderLockRow.conversation_id == Conversation.id)
        )
        attempts = select(VerificationAttemptRow.at, VerificationAttemptRow.success).where(
            VerificationAttemptRow.at.between(since, until - timedelta(microseconds=1))
        )
        with self.database.transaction() as session:
            calls = session.execute(
                select(Conversation.started_at, Conversation.outcome).where(in_range)
            )
            latencies = [
                (at, float(marks["first_audio_sent"]))
                for at, marks in session.execute(first_audio)
                if isinstance(marks, dict) and "first_audio_sent" in marks
            ]
            return StatsRows(
                calls=tuple((row.started_at, row.outcome) for row in calls),
                verifications=tuple((row.at, row.success) for row in session.execute(attempts)),
                locks=tuple(
                    _utc(at) for at in session.scalars(lock_times) if since <= _utc(at) < until
                ),
                first_audio=tuple(latencies),
            )


def day_range(since: date, until: date) -> tuple[datetime, datetime]:
    """[start of `since`, start of the day after `until`) in UTC."""
    start = datetime.combine(since, time(), UTC)
    if until == date.max:  # no day after it to start: the end is the last moment there is
        return start, datetime.max.replace(tzinfo=UTC)
    return start, datetime.combine(until + timedelta(days=1), time(), UTC)


def _utc(at: datetime) -> datetime:
    # A COALESCE loses the column type, so SQLite hands back a naive UTC time.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _conditions(query: CallQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.order_number.strip():
        number = query.order_number.strip()
        conditions.append(Conversation.id.in_(_touching(Order.number == number, [number])))
    if query.phone.strip():
        conditions.append(_by_phone(query.phone))
    if query.email.strip():
        conditions.append(_by_email(query.email.strip().lower()))
    if query.since is not None or query.until is not None:
        start, end = day_range(query.since or date.min, query.until or date.max - timedelta(1))
        if query.since is not None:
            conditions.append(Conversation.started_at >= start)
        if query.until is not None:
            conditions.append(Conversation.started_at < end)
    return conditions


def _touching(order_filter: ColumnElement[bool], numbers: Iterable[str] | None) -> Select[Any]:
    """The ids of the conversations that touched an order matching `order_filter` (and, for
    verification attempts, keyed by the number as said, one of `numbers`)."""
    orders = select(Order.id).where(order_filter)
    selects: list[Select[Any]] = [
        select(table.conversation_id).where(table.order_id.in_(orders)) for table in _ORDER_CASES
    ]
    said = select(Order.number).where(order_filter)
    verified: ColumnElement[bool] = VerificationAttemptRow.order_number.in_(said)
    if numbers is not None:
        verified = or_(verified, VerificationAttemptRow.order_number.in_(list(numbers)))
    selects.append(select(VerificationAttemptRow.conversation_id).where(verified))
    return select(union(*selects).subquery().c[0])


def _digits_only(column: Any) -> Any:
    for mark in _PHONE_PUNCTUATION:
        column = func.replace(column, mark, "")
    return column


def _by_phone(phone: str) -> ColumnElement[bool]:
    key = phone_key(phone)
    if not key:
        raise DeskError(f"{phone!r} has no digits to search a phone number by")
    pattern = f"%{key}%"
    contacts = select(Handoff.conversation_id).where(_digits_only(Handoff.contact).like(pattern))
    return or_(
        _digits_only(Conversation.caller_id).like(pattern),
        Conversation.id.in_(contacts),
        Conversation.id.in_(_touching(Order.phone_tail == key, None)),
    )


def _by_email(email: str) -> ColumnElement[bool]:
    customers = select(Customer.id).where(Customer.email == email)
    contacts = select(Handoff.conversation_id).where(func.lower(Handoff.contact) == email)
    return or_(
        Conversation.id.in_(contacts),
        Conversation.id.in_(_touching(Order.customer_id.in_(customers), None)),
    )


def _summaries(session: Session, rows: list[Conversation]) -> list[CallSummary]:
    ids = [row.id for row in rows]
    if not ids:
        return []
    counted = (
        select(Turn.conversation_id, func.count())
        .where(Turn.conversation_id.in_(ids))
        .group_by(Turn.conversation_id)
    )
    turn_counts = {conversation_id: count for conversation_id, count in session.execute(counted)}
    numbers = _order_numbers(session, ids)
    return [
        CallSummary(
            id=row.id,
            channel=row.channel,
            caller_id=row.caller_id,
            started_at=row.started_at,
            ended_at=row.ended_at,
            outcome=row.outcome,
            turns=turn_counts.get(row.id, 0),
            order_numbers=tuple(sorted(numbers.get(row.id, ()))),
        )
        for row in rows
    ]


def _order_numbers(session: Session, ids: list[int]) -> dict[int, set[str]]:
    """The orders each call touched (verified or opened a case on)."""
    found: dict[int, set[str]] = {}
    for table in _ORDER_CASES:
        query = (
            select(table.conversation_id, Order.number)
            .join(Order, table.order_id == Order.id)
            .where(table.conversation_id.in_(ids))
        )
        for conversation_id, number in session.execute(query):
            if conversation_id is not None:
                found.setdefault(conversation_id, set()).add(number)
    attempts = select(
        VerificationAttemptRow.conversation_id, VerificationAttemptRow.order_number
    ).where(VerificationAttemptRow.conversation_id.in_(ids))
    for conversation_id, number in session.execute(attempts):
        if conversation_id is not None:
            found.setdefault(conversation_id, set()).add(number)
    return found


def _transcript_turn(row: Turn) -> TranscriptTurn:
    return TranscriptTurn(
        seq=row.seq,
        speaker=row.speaker,
        text=row.text,
        started_at=row.started_at,
        interrupted=row.interrupted,
        played_text=row.played_text,
        latency_marks=dict(row.latency_marks or {}),
    )
