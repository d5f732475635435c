"""The outbox: every action the agent takes for the shop, stored with the action itself.

``outbox_row`` turns a write into its event (``Repository.apply`` adds it in the same
transaction, so an action is never stored without its event, nor an event without its
action); ``desk_outbox_row`` does the same for what the shop's team does at the desk
(``DeskRepository``); ``Outbox`` is what the webhook delivery and ``voice-agent data
export`` read and mark. Events and their payloads are documented in docs/webhooks.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update

from voice_agent.clock import iso_time
from voice_agent.store.db import Database
from voice_agent.store.models import OutboxRow
from voice_agent.store.writes import (
    AddressChange,
    ClaimWrite,
    HandoffWrite,
    ReturnRequest,
    ShopRequest,
    Write,
)

SHOP_REQUEST_EVENTS = {
    "cancellation": "cancellation.requested",
    "invoice": "invoice.requested",
    "duplicate_charge": "duplicate_charge.reported",
    "complaint": "complaint.filed",
    "tracking_link": "tracking_link.requested",
}
"""The event of each shop request kind (SHOP_REQUEST_KINDS); its payload names the kind too."""

DESK_STATUS_EVENTS = {
    "claim": "claim.status_changed",
    "return": "return.status_changed",
    "shop_request": "shop_request.status_changed",
}
"""The event of a status change at the desk, per case kind; hand-offs and address changes
have one event per new status (``DESK_EVENTS_BY_STATUS``)."""

DESK_EVENTS_BY_STATUS = {
    "handoff": {"taken": "handoff.taken", "closed": "handoff.closed", "open": "handoff.reopened"},
    "address_change": {"confirmed": "address.confirmed", "rejected": "address.rejected"},
}

NOTE_EVENT = "case.noted"

EVENTS = (
    "claim.opened",
    "return.requested",
    *SHOP_REQUEST_EVENTS.values(),
    "address.changed",
    "handoff.created",
    *DESK_STATUS_EVENTS.values(),
    *(event for events in DESK_EVENTS_BY_STATUS.values() for event in events.values()),
    NOTE_EVENT,
)
"""Every event the outbox holds (docs/webhooks.md)."""


@dataclass(frozen=True, slots=True)
class DeskChange:
    """What an operator did to a case at the desk, as the shop is told: a status change
    (``status`` set) or a note (``status`` None). Never the caller's contact or transcript."""

    kind: str
    """One of CASE_KINDS."""
    reference: str
    order_number: str | None
    conversation_id: int | None
    """The call that opened the case."""
    operator: str
    at: datetime
    from_status: str | None = None
    status: str | None = None
    note: str = ""
    request_kind: str | None = None
    """A shop request's kind (SHOP_REQUEST_KINDS)."""
    requested_at: datetime | None = None
    """An address change's time, as ``address.changed`` gave it: how the shop finds it."""


def new_event_id() -> str:
    """A fresh idempotency key: a random UUID, unique across instances sharing a database."""
    return str(uuid.uuid4())


def _iso_day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def outbox_row(write: Write, new_id: Callable[[], str] = new_event_id) -> OutboxRow | None:
    """The outbox row of an action for the shop; None for writes that are no action
    (verification attempts, locks, turns)."""
    built = _event(write)
    if built is None:
        return None
    return _row(*built, new_id)


def desk_outbox_row(change: DeskChange, new_id: Callable[[], str] = new_event_id) -> OutboxRow:
    """The outbox row of a desk action (``DeskRepository`` adds it with the action)."""
    return _row(_desk_event(change), change.at, _desk_payload(change), new_id)


def _row(
    event: str, created_at: datetime, payload: dict[str, Any], new_id: Callable[[], str]
) -> OutboxRow:
    return OutboxRow(
        event_id=new_id(),
        event=event,
        payload=payload,
        created_at=created_at,
        attempts=0,
        next_attempt_at=created_at,
        order_number=payload.get("order_number"),
        conversation_id=payload["conversation_id"],
    )


def _event(write: Write) -> tuple[str, datetime, dict[str, Any]] | None:
    match write:
        case ClaimWrite():
            return "claim.opened", write.opened_at, _claim(write)
        case ReturnRequest():
            return "return.requested", write.requested_at, _return(write)
        case ShopRequest():
            return SHOP_REQUEST_EVENTS[write.kind], write.requested_at, _shop_request(write)
        case AddressChange():
            return "address.changed", write.requested_at, _address_change(write)
        case HandoffWrite():
            return "handoff.created", write.created_at, _handoff(write)
    return None


def _claim(write: ClaimWrite) -> dict[str, Any]:
    return {
        "reference": write.reference,
        "order_number": write.order_number,
        "kind": write.kind,
        "stage": write.stage,
        "responsible_party": write.responsible_party,
        "evidence_held": list(write.evidence_held),
        "evidence_missing": list(write.evidence_missing),
        "insured": write.insured,
        "photos_needed": write.photos_needed,
        "outcome": write.outcome,
        "promised_by": _iso_day(write.promised_by),
        "status": write.status,
        "opened_at": iso_time(write.opened_at),
        "conversation_id": write.conversation_id,
    }


def _return(write: ReturnRequest) -> dict[str, Any]:
    return {
        "reference": write.reference,
        "order_number": write.order_number,
        "reason": write.reason,
        "skus": list(write.skus),
        "requested_at": iso_time(write.requested_at),
        "conversation_id": write.conversation_id,
    }


def _shop_request(write: ShopRequest) -> dict[str, Any]:
    return {
        "reference": write.reference,
        "kind": write.kind,
        "order_number": write.order_number,
        "details": write.details,
        "requested_at": iso_time(write.requested_at),
        "reply_by": _iso_day(write.reply_by),
        "conversation_id": write.conversation_id,
    }


def _address_change(write: AddressChange) -> dict[str, Any]:
    return {
        "order_number": write.order_number,
        "address": write.address,
        "postcode": write.postcode,
        "requested_at": iso_time(write.requested_at),
        "conversation_id": write.conversation_id,
    }


def _handoff(write: HandoffWrite) -> dict[str, Any]:
    # Not the transcript: it holds what the caller said to be verified (postcodes, e-mail
    # addresses); the desk shows it to the team, a webhook would copy it to other systems.
    return {
        "reference": write.reference,
        "order_number": write.order_number,
        "reason": write.reason,
        "facts": dict(write.facts),
        "contact": write.contact,
        "callback_by": iso_time(write.callback_by),
        "created_at": iso_time(write.created_at),
        "conversation_id": write.conversation_id,
    }


def _desk_event(change: DeskChange) -> str:
    if change.status is None:
        return NOTE_EVENT
    by_status = DESK_EVENTS_BY_STATUS.get(change.kind)
    if by_status is not None:
        return by_status[change.status]
    return DESK_STATUS_EVENTS[change.kind]


def _desk_payload(change: DeskChange) -> dict[str, Any]:
    # The operator's user name says who to ask; notes are the team's words about the case.
    payload: dict[str, Any] = {
        "case": change.kind,
        "reference": change.reference,
        "order_number": change.order_number,
        "operator": change.operator,
        "note": change.note,
        "at": iso_time(change.at),
        "conversation_id": change.conversation_id,
    }
    if change.status is not None:
        payload |= {"from_status": change.from_status, "status": change.status}
    if change.request_kind is not None:
        payload["kind"] = change.request_kind
    if change.requested_at is not None:
        payload["requested_at"] = iso_time(change.requested_at)
    return payload


# --- reading and marking -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One event as stored: what to deliver, and how delivery has gone so far."""

    event_id: str
    event: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    order_number: str | None
    conversation_id: int | None


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        event_id=row.event_id,
        event=row.event,
        payload=dict(row.payload),
        created_at=row.created_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
        order_number=row.order_number,
        conversation_id=row.conversation_id,
    )


class Outbox:
    """The outbox table, for delivery and export; each method is one transaction and every
    time is passed in (the store never reads the wall clock)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        """Undelivered events whose next attempt is at or before ``now``, oldest first."""
        query = (
            select(OutboxRow)
            .where(OutboxRow.delivered_at.is_(None), OutboxRow.next_attempt_at <= now)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        with self.database.transaction() as session:
            return [_entry(row) for row in session.scalars(query)]

    def mark_delivered(self, event_id: str, at: datetime) -> None:
        query = (
            update(OutboxRow)
            .where(OutboxRow.event_id == event_id, OutboxRow.delivered_at.is_(None))
            .values(delivered_at=at, attempts=OutboxRow.attempts + 1, last_error=None)
        )
        with self.database.transaction(write=True) as session:
            session.execute(query, execution_options={"synchronize_session": False})

    def mark_failed(self, event_id: str, error: str, next_attempt_at: datetime) -> None:
        """One more failed attempt: the event waits until ``next_attempt_at``."""
        query = (
            update(OutboxRow)
            .where(OutboxRow.event_id == event_id, OutboxRow.delivered_at.is_(None))
            .values(
                attempts=OutboxRow.attempts + 1,
                last_error=error[:2000],
                next_attempt_at=next_attempt_at,
            )
        )
        with self.database.transaction(write=True) as session:
            session.execute(query, execution_options={"synchronize_session": False})

    def entries(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[OutboxEntry]:
        """Every event created at or after ``since`` and before ``until``, oldest first."""
        query = select(OutboxRow).order_by(OutboxRow.created_at, OutboxRow.id)
        if since is not None:
            query = query.where(OutboxRow.created_at >= since)
        if until is not None:
            query = query.where(OutboxRow.created_at < until)
        with self.database.transaction() as session:
            return [_entry(row) for row in session.scalars(query)]


def export_document(entries: list[OutboxEntry]) -> dict[str, Any]:
    """What `voice-agent data export` writes: every event with its delivery state."""
    return {
        "events": [
            {
                "id": entry.event_id,
                "event": entry.event,
                "created_at": iso_time(entry.created_at),
                "delivered_at": entry.delivered_at and iso_time(entry.delivered_at),
                "data": entry.payload,
            }
            for entry in entries
        ]
    }
