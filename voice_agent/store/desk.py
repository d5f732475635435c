"""The desk's store: operators, their sessions, and the cases the shop's team works.

Like Repository, nothing here reads the wall clock (every time is passed in) and each public
method is one transaction. Every change to a case is recorded in `case_events`, in the same
transaction as the change itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from voice_agent.store.db import Database, StoreError
from voice_agent.store.desk_cases import case_items
from voice_agent.store.desk_views import (
    CaseEventView,
    CaseItem,
    DeskSessionView,
    HandoffCase,
    OperatorView,
)
from voice_agent.store.models import (
    AddressChangeRow,
    CaseEventRow,
    Claim,
    Conversation,
    DeskSession,
    Handoff,
    Operator,
    ReturnRequestRow,
    ShopRequestRow,
)
from voice_agent.store.views import CASE_STATUSES, OPERATOR_ROLES

CLOSED_SHOWN = 50
"""How many closed hand-offs the queue shows below the open ones."""


class DeskError(StoreError):
    """A desk action was refused; the message says why, in the operator's words."""


@dataclass(frozen=True, slots=True)
class Credentials:
    operator: OperatorView
    password_hash: str


_CaseRow = Handoff | Claim | ReturnRequestRow | ShopRequestRow | AddressChangeRow
_CASE_TABLES: dict[str, type[_CaseRow]] = {
    "claim": Claim,
    "return": ReturnRequestRow,
    "shop_request": ShopRequestRow,
    "address_change": AddressChangeRow,
}


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
        with self.database.transaction(write=True) as session:
            row = _handoff_row(session, handoff_id)
            if row.status == "closed":
                raise DeskError(f"hand-off {row.reference} is closed; nothing to take")
            if row.status == "taken" and row.taken_by != operator:
                raise DeskError(f"hand-off {row.reference} was taken by {row.taken_by}")
            row.status, row.taken_by = "taken", operator
            _record(session, "handoff", handoff_id, operator, "take", now, status="taken")

    def close_handoff(self, handoff_id: int, operator: str, now: datetime, text: str = "") -> None:
        with self.database.transaction(write=True) as session:
            row = _handoff_row(session, handoff_id)
            if row.status == "closed":
                raise DeskError(f"hand-off {row.reference} is already closed")
            row.status, row.closed_at = "closed", now
            row.taken_by = row.taken_by or operator
            _record(session, "handoff", handoff_id, operator, "status", now, "closed", text)

    # --- cases -------------------------------------------------------------------------------

    def add_note(self, kind: str, case_id: int, operator: str, text: str, now: datetime) -> None:
        text = text.strip()
        if not text:
            raise DeskError("the note is empty; write something to add")
        with self.database.transaction(write=True) as session:
            _case_row(session, kind, case_id)
            _record(session, kind, case_id, operator, "note", now, text=text)

    def set_status(
        self, kind: str, case_id: int, status: str, operator: str, now: datetime, text: str = ""
    ) -> None:
        """Move a case to one of its kind's statuses (CASE_STATUSES), with an optional note."""
        allowed = CASE_STATUSES.get(kind)
        if allowed is None:
            raise DeskError(f"no case kind {kind!r}; one of {', '.join(CASE_STATUSES)}")
        if status not in allowed:
            raise DeskError(
                f"{status!r} is not a status of a {kind.replace('_', ' ')}; "
                f"one of {', '.join(allowed)}"
            )
        with self.database.transaction(write=True) as session:
            row = _case_row(session, kind, case_id)
            row.status = status
            if isinstance(row, Handoff):
                row.taken_by = (row.taken_by or operator) if status != "open" else None
                row.closed_at = now if status == "closed" else None
            if isinstance(row, AddressChangeRow):
                row.confirmed_at = now if status == "confirmed" else None
            _record(session, kind, case_id, operator, "status", now, status, text.strip())

    def cases(self, kind: str) -> list[CaseItem]:
        """Every case of one kind, newest first, each with its desk history."""
        if kind not in _CASE_TABLES:
            raise DeskError(f"no case kind {kind!r}; one of {', '.join(_CASE_TABLES)}")
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
    row = session.get(Handoff, handoff_id)
    if row is None:
        raise DeskError(f"no hand-off {handoff_id}")
    return row


def _case_row(session: Session, kind: str, case_id: int) -> _CaseRow:
    table: type[_CaseRow] | None = Handoff if kind == "handoff" else _CASE_TABLES.get(kind)
    if table is None:
        raise DeskError(f"no case kind {kind!r}; one of {', '.join(CASE_STATUSES)}")
    row: _CaseRow | None = session.get(table, case_id)  # type: ignore[assignment]
    if row is None:
        raise DeskError(f"no {kind.replace('_', ' ')} {case_id}")
    return row


def _record(
    session: Session,
    kind: str,
    case_id: int,
    operator: str,
    action: str,
    at: datetime,
    status: str | None = None,
    text: str = "",
) -> None:
    session.add(
        CaseEventRow(
            case_kind=kind,
            case_id=case_id,
            operator=operator,
            action=action,
            status=status,
            text=text,
            at=at,
        )
    )


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
