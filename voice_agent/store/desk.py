"""The desk's store: operators, their sessions, and the cases the shop's team works.

Like Repository, nothing here reads the wall clock (every time is passed in) and each public
method is one transaction. Every change to a case is recorded in `case_events` and told to
the shop in the outbox, in the same transaction as the change itself; a status change follows
its kind's workflow and starts from the status the operator saw (store/desk_workflow.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from voice_agent.store.db import Database
from voice_agent.store.desk_cases import case_items
from voice_agent.store.desk_views import (
    CaseEventView,
    CaseItem,
    DeskSessionView,
    HandoffCase,
    OperatorView,
)
from voice_agent.store.desk_workflow import (
    CASE_TABLES,
    DeskError,
    apply_status,
    check_seen,
    check_status_of_kind,
    check_transition,
    locked_case,
    record,
)
from voice_agent.store.models import (
    AddressChangeRow,
    CaseEventRow,
    Conversation,
    DeskSession,
    Handoff,
    Operator,
)
from voice_agent.store.views import OPERATOR_ROLES

__all__ = ["CLOSED_SHOWN", "Credentials", "DeskError", "DeskRepository"]

CLOSED_SHOWN = 50
"""How many closed hand-offs the queue shows below the open ones."""


@dataclass(frozen=True, slots=True)
class Credentials:
    operator: OperatorView
    password_hash: str


_LISTED_KINDS = tuple(kind for kind in CASE_TABLES if kind != "handoff")
"""The kinds the cases page lists (hand-offs have their own queue)."""


class DeskRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    # --- operators ---------------------------------------------------------------------------

    def add_operator(
        self, username: str, password_hash: str, role: str, now: datetime
    ) -> OperatorView:
        if role not in OPERATOR_ROLES:
            raise DeskError(f"role {role!r} is not one of {', '.join(OPERATOR_ROLES)}")
        try:
            with self.database.transaction(write=True) as session:
                if session.scalar(select(Operator.id).where(Operator.username == username)):
                    raise DeskError(f"an operator named {username!r} already exists")
                row = Operator(
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    created_at=now,
                    disabled=False,
                )
                session.add(row)
                session.flush()
                return _operator(row)
        except IntegrityError:  # added by someone else between the check and the insert
            raise DeskError(f"an operator named {username!r} already exists") from None

    def operators(self) -> list[OperatorView]:
        with self.database.transaction() as session:
            rows = session.scalars(select(Operator).order_by(Operator.username))
            return [_operator(row) for row in rows]

    def credentials(self, username: str) -> Credentials | None:
        """The operator's password hash, to check a sign-in (None: no such operator)."""
        with self.database.transaction() as session:
            row = session.scalar(select(Operator).where(Operator.username == username))
            return None if row is None else Credentials(_operator(row), row.password_hash)

    def set_password_hash(self, operator_id: int, password_hash: str) -> None:
        """Store a re-hashed password (argon2's parameters were raised since it was set)."""
        with self.database.transaction(write=True) as session:
            row = session.get(Operator, operator_id)
            if row is not None:
                row.password_hash = password_hash

    def set_disabled(self, username: str, disabled: bool) -> OperatorView:
        """Disable (or enable again) an operator; disabling ends their sessions."""
        with self.database.transaction(write=True) as session:
            row = session.scalar(select(Operator).where(Operator.username == username))
            if row is None:
                raise DeskError(f"no operator named {username!r}")
            row.disabled = disabled
            if disabled:
                session.execute(delete(DeskSession).where(DeskSession.operator_id == row.id))
            return _operator(row)

    # --- sessions ----------------------------------------------------------------------------

    def start_session(
        self, operator_id: int, token_hash: str, csrf_token: str, now: datetime, expires: datetime
    ) -> None:
        with self.database.transaction(write=True) as session:
            # Sign-ins leave expired rows behind; clear them as new ones come.
            session.execute(delete(DeskSession).where(DeskSession.expires_at <= now))
            session.add(
                DeskSession(
                    token_hash=token_hash,
                    operator_id=operator_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    expires_at=expires,
                )
            )

    def session(self, token_hash: str, now: datetime) -> DeskSessionView | None:
        """The session of this token, unless it expired or its operator was disabled."""
        query = (
            select(DeskSession, Operator)
            .join(Operator, DeskSession.operator_id == Operator.id)
            .where(DeskSession.token_hash == token_hash, DeskSession.expires_at > now)
        )
        with self.database.transaction() as session:
            found = session.execute(query).first()
            if found is None or found.Operator.disabled:
                return None
            desk_session: DeskSession = found.DeskSession
            return DeskSessionView(
                _operator(found.Operator), desk_session.csrf_token, desk_session.expires_at
            )

    def end_session(self, token_hash: str) -> None:
        with self.database.transaction(write=True) as session:
            session.execute(delete(DeskSession).where(DeskSession.token_hash == token_hash))

    # --- hand-offs ---------------------------------------------------------------------------

    def handoff_queue(self) -> list[HandoffCase]:
        """Open and taken hand-offs by promised call-back time, then the latest closed ones."""
        query = (
            select(Handoff, Conversation.caller_id, Conversation.channel)
            .outerjoin(Conversation, Handoff.conversation_id == Conversation.id)
            .options(selectinload(Handoff.order))
        )
        waiting = query.where(Handoff.status != "closed").order_by(Handoff.callback_by, Handoff.id)
        closed = (
            query.where(Handoff.status == "closed")
            .order_by(Handoff.closed_at.desc(), Handoff.id.desc())
            .limit(CLOSED_SHOWN)
        )
        with self.database.transaction() as session:
            rows = [*session.execute(waiting), *session.execute(closed)]
            events = _events(session, "handoff", [row.Handoff.id for row in rows])
            return [
                _handoff_case(row.Handoff, row.caller_id, row.channel, events.get(row.Handoff.id))
                for row in rows
            ]

    def handoff(self, handoff_id: int) -> HandoffCase:
        query = (
            select(Handoff, Conversation.caller_id, Conversation.channel)
            .outerjoin(Conversation, Handoff.conversation_id == Conversation.id)
            .options(selectinload(Handoff.order))
            .where(Handoff.id == handoff_id)
        )
        with self.database.transaction() as session:
            row = session.execute(query).first()
            if row is None:
                raise DeskError(f"no hand-off {handoff_id}")
            events = _events(session, "handoff", [handoff_id])
            return _handoff_case(row.Handoff, row.caller_id, row.channel, events.get(handoff_id))

    def take_handoff(self, handoff_id: int, operator: str, now: datetime) -> None:
        """Take an open hand-off (taking one's own again changes nothing)."""
        with self.database.transaction(write=True) as session:
            row = _handoff_row(session, handoff_id)
            if row.status == "closed":
                raise DeskError(f"hand-off {row.reference} is closed; nothing to take")
            if row.status == "taken":
                if row.taken_by != operator:
                    raise DeskError(f"hand-off {row.reference} was taken by {row.taken_by}")
                return
            row.status, row.taken_by = "taken", operator
            record(session, "handoff", row, operator, "take", now, from_status="open")

    def close_handoff(
        self,
        handoff_id: int,
        operator: str,
        now: datetime,
        text: str = "",
        *,
        seen: str | None = None,
    ) -> None:
        """Close a hand-off, open or taken; with ``seen`` (the status its operator saw) only
        if it still has that status."""
        with self.database.transaction(write=True) as session:
            row = _handoff_row(session, handoff_id)
            if row.status == "closed":
                raise DeskError(f"hand-off {row.reference} is already closed")
            if seen is not None:
                check_seen(session, "handoff", row, seen)
            before = row.status
            apply_status(session, row, "closed", operator, now)
            text = text.strip()
            record(session, "handoff", row, operator, "status", now, from_status=before, text=text)

    # --- cases -------------------------------------------------------------------------------

    def add_note(self, kind: str, case_id: int, operator: str, text: str, now: datetime) -> None:
        text = text.strip()
        if not text:
            raise DeskError("the note is empty; write something to add")
        with self.database.transaction(write=True) as session:
            row = locked_case(session, kind, case_id)
            record(session, kind, row, operator, "note", now, text=text)

    def set_status(
        self,
        kind: str,
        case_id: int,
        status: str,
        operator: str,
        now: datetime,
        text: str = "",
        *,
        seen: str,
        admin: bool = False,
    ) -> None:
        """Move a case from ``seen``, the status its operator saw, to one that may follow it
        (CASE_TRANSITIONS; an admin may also reopen: CASE_REOPENS), with an optional note.
        Refused, with nothing written, when the case has another status by now or the move
        is not allowed."""
        check_status_of_kind(kind, status)
        with self.database.transaction(write=True) as session:
            row = locked_case(session, kind, case_id)
            check_seen(session, kind, row, seen)
            check_transition(kind, row, status, admin)
            apply_status(session, row, status, operator, now)
            text = text.strip()
            record(session, kind, row, operator, "status", now, from_status=seen, text=text)

    def cases(self, kind: str) -> list[CaseItem]:
        """Every case of one kind, newest first, each with its desk history."""
        if kind not in _LISTED_KINDS:
            raise DeskError(f"no case kind {kind!r}; one of {', '.join(_LISTED_KINDS)}")
        with self.database.transaction() as session:
            rows = case_items(session, kind)
            events = _events(session, kind, [item.id for item in rows])
            return [_with_events(item, events.get(item.id)) for item in rows]

    def unconfirmed_address_changes(self) -> int:
        """How many address changes the shop has not confirmed (nor rejected) yet."""
        query = select(func.count()).where(AddressChangeRow.status == "unconfirmed")
        with self.database.transaction() as session:
            return session.scalar(query) or 0

    def case_events(self, kind: str, case_id: int) -> list[CaseEventView]:
        with self.database.transaction() as session:
            return list(_events(session, kind, [case_id]).get(case_id, ()))


def _operator(row: Operator) -> OperatorView:
    return OperatorView(row.id, row.username, row.role, row.created_at, row.disabled)


def _handoff_row(session: Session, handoff_id: int) -> Handoff:
    row = locked_case(session, "handoff", handoff_id)
    assert isinstance(row, Handoff)
    return row


def _events(
    session: Session, kind: str, case_ids: Sequence[int]
) -> dict[int, tuple[CaseEventView, ...]]:
    if not case_ids:
        return {}
    query = (
        select(CaseEventRow)
        .where(CaseEventRow.case_kind == kind, CaseEventRow.case_id.in_(case_ids))
        .order_by(CaseEventRow.at, CaseEventRow.id)
    )
    found: dict[int, list[CaseEventView]] = {}
    for row in session.scalars(query):
        event = CaseEventView(row.operator, row.action, row.status, row.text, row.at)
        found.setdefault(row.case_id, []).append(event)
    return {case_id: tuple(events) for case_id, events in found.items()}


def _handoff_case(
    row: Handoff,
    caller_id: str | None,
    channel: str | None,
    events: tuple[CaseEventView, ...] | None,
) -> HandoffCase:
    return HandoffCase(
        id=row.id,
        reference=row.reference,
        reason=row.reason,
        facts=dict(row.facts),
        callback_by=row.callback_by,
        created_at=row.created_at,
        status=row.status,
        order_number=None if row.order is None else row.order.number,
        conversation_id=row.conversation_id,
        caller_id=caller_id,
        channel=channel,
        contact=row.contact,
        taken_by=row.taken_by,
        closed_at=row.closed_at,
        events=events or (),
    )


def _with_events(item: CaseItem, events: tuple[CaseEventView, ...] | None) -> CaseItem:
    return replace(item, events=events or ())
