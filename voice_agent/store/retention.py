"""Removing personal data: old recordings and transcripts (`purge`), one person's (`erase`).

Each is one transaction: its recording files are removed inside it, so a file that cannot be
removed rolls the whole change back (nothing is half done, and it can be run again). On
SQLite the deleted text must not survive in free pages or the WAL: deletes run with
``secure_delete`` on, and afterwards the file is rebuilt (``VACUUM``) and the WAL checkpointed
and truncated. PostgreSQL keeps dead rows until its own VACUUM; see docs/operations.md.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Update, and_, delete, or_, select, text, update
from sqlalchemy.orm import Session

from voice_agent.store.db import Database, StoreError
from voice_agent.store.models import (
    AddressChangeRow,
    CaseEventRow,
    Claim,
    Conversation,
    Customer,
    Handoff,
    Order,
    OrderLockRow,
    OutboxRow,
    ReturnRequestRow,
    ShopRequestRow,
    Turn,
    VerificationAttemptRow,
    phone_key,
)

logger = logging.getLogger(__name__)

PURGED = "(purged)"
"""What a hand-off's transcript says once purged."""

_MIN_PHONE_DIGITS = 6
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Purged:
    before: datetime
    conversations: int
    """Conversations started before ``before`` (their rows, outcomes and actions stay)."""
    recordings: int
    turns: int
    handoff_transcripts: int
    stray_files: int
    """Recording files no conversation refers to (a call that died while saving), as old."""


@dataclass(frozen=True, slots=True)
class Erased:
    customer: str
    counts: dict[str, int] = field(default_factory=dict)
    """Rows removed per kind ("customers", "orders", "conversations", ...), and "recordings"
    (files)."""


def purge(database: Database, recordings: Path, before: datetime) -> Purged:
    """Remove the recordings and transcripts of the conversations started before ``before``;
    keep the conversations themselves and what they did (claims, hand-offs, ...)."""
    old = select(Conversation.id).where(Conversation.started_at < before)
    with database.transaction(write=True) as session:
        _secure_delete(session)
        conversations = len(session.scalars(old).all())
        paths = _recording_paths(session, Conversation.started_at < before)
        turns = _count(session, delete(Turn).where(Turn.conversation_id.in_(old)))
        handoffs = _count(
            session,
            update(Handoff)
            .where(
                or_(
                    Handoff.conversation_id.in_(old),
                    and_(Handoff.conversation_id.is_(None), Handoff.created_at < before),
                ),
                Handoff.transcript != PURGED,
            )
            .values(transcript=PURGED),
        )
        session.execute(
            update(Conversation)
            .where(Conversation.started_at < before, Conversation.recording_path.is_not(None))
            .values(recording_path=None)
        )
        removed = _remove_files(recordings, paths)
        stray = _remove_stray_files(session, recordings, before)
    compact(database)
    return Purged(before, conversations, removed, turns, handoffs, stray)


def erase(database: Database, recordings: Path, customer: str) -> Erased:
    """Remove everything stored about one person, found by e-mail address or phone number:
    their customer row and orders, the actions on those orders, the conversations that
    touched them or came from that phone (with turns and recordings), hand-offs whose contact
    is theirs, and the outbox rows of all that. StoreError when nothing matches."""
    kind, key = customer_key(customer)
    with database.transaction(write=True) as session:
        _secure_delete(session)
        found = _find(session, kind, key)
        if found.empty:
            raise StoreError(f"nobody matches {customer!r}: nothing was erased")
        paths = _recording_paths(session, Conversation.id.in_(found.conversations))
        counts = _delete(session, found)
        counts["recordings"] = _remove_files(recordings, paths)
    compact(database)
    return Erased(customer, counts)


def customer_key(customer: str) -> tuple[str, str]:
    """("email", the address lower-cased) or ("phone", its ``phone_key``); ValueError for
    anything else."""
    value = customer.strip()
    if _EMAIL.match(value):
        return "email", value.lower()
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) >= _MIN_PHONE_DIGITS and re.fullmatch(r"\+?[\d\s().-]+", value):
        return "phone", phone_key(value)
    raise ValueError(f"{customer!r} is neither an e-mail address nor a phone number")


def compact(database: Database) -> None:
    """SQLite: rebuild the file without its free pages, then fold the WAL into it and empty
    it, so that deleted text is left in neither. Nothing to do on PostgreSQL."""
    if database.backend != "sqlite":
        return
    connection = database.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = cursor.fetchone()
        if busy and busy[0]:
            logger.warning("the WAL could not be emptied: another connection is reading")
        cursor.close()
    finally:
        connection.close()


# --- finding one person's data ---------------------------------------------------------------


@dataclass(slots=True)
class _Found:
    customers: set[int] = field(default_factory=set)
    orders: set[int] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    conversations: set[int] = field(default_factory=set)
    handoffs: set[int] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not (self.customers or self.orders or self.conversations or self.handoffs)


def _find(session: Session, kind: str, key: str) -> _Found:
    found = _Found()
    if kind == "email":
        found.customers.update(session.scalars(select(Customer.id).where(Customer.email == key)))
    else:
        by_phone = select(Order.customer_id).where(Order.phone_tail == key)
        found.customers.update(session.scalars(by_phone))
        found.conversations.update(_calls_from(session, key))
    for order_id, number in session.execute(
        select(Order.id, Order.number).where(Order.customer_id.in_(found.customers))
    ):
        found.orders.add(order_id)
        found.numbers.add(number)
    found.handoffs.update(_handoffs_of(session, kind, key, found.orders))
    found.conversations.update(_conversations_touching(session, found))
    handoffs_in_calls = select(Handoff.id).where(Handoff.conversation_id.in_(found.conversations))
    found.handoffs.update(session.scalars(handoffs_in_calls))
    return found


def _calls_from(session: Session, key: str) -> list[int]:
    """Conversations whose caller ID is this phone number ("+4930...@203.0.113.5")."""
    query = select(Conversation.id, Conversation.caller_id).where(
        Conversation.caller_id.is_not(None)
    )
    return [
        conversation_id
        for conversation_id, caller_id in session.execute(query)
        if caller_id is not None and _caller_phone_key(caller_id) == key
    ]


def _caller_phone_key(caller_id: str) -> str | None:
    if caller_id.startswith("web:"):
        return None  # an address, not a number
    user = caller_id.split("@")[0].removeprefix("sip:").removeprefix("tel:")
    digits = "".join(ch for ch in user if ch.isdigit())
    return phone_key(user) if len(digits) >= _MIN_PHONE_DIGITS else None


def _handoffs_of(session: Session, kind: str, key: str, orders: Collection[int]) -> set[int]:
    ids = set(session.scalars(select(Handoff.id).where(Handoff.order_id.in_(orders))))
    with_contact = select(Handoff.id, Handoff.contact).where(Handoff.contact.is_not(None))
    for handoff_id, contact in session.execute(with_contact):
        if contact is not None and _contact_matches(contact, kind, key):
            ids.add(handoff_id)
    return ids


def _contact_matches(contact: str, kind: str, key: str) -> bool:
    if kind == "email":
        return contact.strip().lower() == key
    digits = "".join(ch for ch in contact if ch.isdigit())
    return "@" not in contact and len(digits) >= _MIN_PHONE_DIGITS and phone_key(contact) == key


def _conversations_touching(session: Session, found: _Found) -> set[int]:
    """The conversations in which these orders or hand-offs came up."""
    orders, numbers = found.orders, found.numbers
    queries: list[Any] = [
        select(VerificationAttemptRow.conversation_id).where(
            VerificationAttemptRow.order_number.in_(numbers)
        ),
        select(OrderLockRow.conversation_id).where(OrderLockRow.order_number.in_(numbers)),
        select(Claim.conversation_id).where(Claim.order_id.in_(orders)),
        select(ReturnRequestRow.conversation_id).where(ReturnRequestRow.order_id.in_(orders)),
        select(ShopRequestRow.conversation_id).where(ShopRequestRow.order_id.in_(orders)),
        select(AddressChangeRow.conversation_id).where(AddressChangeRow.order_id.in_(orders)),
        select(Handoff.conversation_id).where(Handoff.id.in_(found.handoffs)),
        select(OutboxRow.conversation_id).where(OutboxRow.order_number.in_(numbers)),
    ]
    ids: set[int] = set()
    for query in queries:
        ids.update(value for value in session.scalars(query) if value is not None)
    return ids


# --- deleting it -----------------------------------------------------------------------------


def _delete(session: Session, found: _Found) -> dict[str, int]:
    """Delete what was found, children before the rows they point to; rows removed per kind."""
    orders, numbers, calls = found.orders, found.numbers, found.conversations
    shop_requests = or_(
        ShopRequestRow.order_id.in_(orders),
        and_(ShopRequestRow.order_id.is_(None), ShopRequestRow.conversation_id.in_(calls)),
    )
    cases = {
        "handoff": select(Handoff.id).where(Handoff.id.in_(found.handoffs)),
        "claim": select(Claim.id).where(Claim.order_id.in_(orders)),
        "return": select(ReturnRequestRow.id).where(ReturnRequestRow.order_id.in_(orders)),
        "shop_request": select(ShopRequestRow.id).where(shop_requests),
        "address_change": select(AddressChangeRow.id).where(AddressChangeRow.order_id.in_(orders)),
    }
    counts = {"case notes": 0}
    for case_kind, ids in cases.items():
        events = delete(CaseEventRow).where(
            CaseEventRow.case_kind == case_kind, CaseEventRow.case_id.in_(ids)
        )
        counts["case notes"] += _count(session, events)
    steps: list[tuple[str, Delete]] = [
        (
            "outbox rows",
            delete(OutboxRow).where(
                or_(OutboxRow.order_number.in_(numbers), OutboxRow.conversation_id.in_(calls))
            ),
        ),
        ("hand-offs", delete(Handoff).where(Handoff.id.in_(found.handoffs))),
        ("claims", delete(Claim).where(Claim.order_id.in_(orders))),
        ("return requests", delete(ReturnRequestRow).where(ReturnRequestRow.order_id.in_(orders))),
        ("shop requests", delete(ShopRequestRow).where(shop_requests)),
        ("address changes", delete(AddressChangeRow).where(AddressChangeRow.order_id.in_(orders))),
        (
            "verification attempts",
            delete(VerificationAttemptRow).where(
                or_(
                    VerificationAttemptRow.order_number.in_(numbers),
                    VerificationAttemptRow.conversation_id.in_(calls),
                )
            ),
        ),
        (
            "locks",
            delete(OrderLockRow).where(
                or_(OrderLockRow.order_number.in_(numbers), OrderLockRow.conversation_id.in_(calls))
            ),
        ),
        ("turns", delete(Turn).where(Turn.conversation_id.in_(calls))),
        ("conversations", delete(Conversation).where(Conversation.id.in_(calls))),
        ("orders", delete(Order).where(Order.id.in_(orders))),  # items, shipment, ... cascade
        ("customers", delete(Customer).where(Customer.id.in_(found.customers))),
    ]
    for name, statement in steps:
        counts[name] = _count(session, statement)
    return counts


# --- plumbing --------------------------------------------------------------------------------


def _secure_delete(session: Session) -> None:
    """SQLite overwrites deleted content with zeros instead of leaving it in free space."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete=ON"))


def _count(session: Session, statement: Delete | Update) -> int:
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return cast(CursorResult[Any], result).rowcount


def _recording_paths(session: Session, condition: Any) -> list[str]:
    query = select(Conversation.recording_path).where(
        condition, Conversation.recording_path.is_not(None)
    )
    return [path for path in session.scalars(query) if path]


def _recording_file(recordings: Path, name: str) -> Path:
    # Only a name inside the recordings folder: a path stored elsewhere is not followed.
    return recordings / Path(name).name


def _remove_files(recordings: Path, names: Iterable[str]) -> int:
    """Remove these recordings; one that is already gone counts as removed. An OSError
    (permissions) propagates and rolls the caller's transaction back."""
    removed = 0
    for name in names:
        path = _recording_file(recordings, name)
        try:
            path.unlink()
        except FileNotFoundError:
            logger.warning("recording %s was already gone", path)
        removed += 1
    return removed


def _remove_stray_files(session: Session, recordings: Path, before: datetime) -> int:
    if not recordings.is_dir():
        return 0
    kept = set(session.scalars(select(Conversation.recording_path)))
    stray = [
        path
        for path in recordings.glob("*.wav")
        if path.name not in kept and path.stat().st_mtime < before.timestamp()
    ]
    return _remove_files(recordings, (path.name for path in stray))
