"""The desk's case workflow: which status may follow which (CASE_TRANSITIONS), the check that
a change starts from the status the operator saw, and what a change does to its case row and
tells the shop (an outbox event, in the change's own transaction).

Two operators may open the same case at once. Each form carries the status its operator saw;
the change is made only if the case still has it, checked on the case row locked for the
transaction (``FOR UPDATE`` on PostgreSQL; SQLite's write transactions run one at a time), so
the second of two changes is refused with who made the first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from voice_agent.store.db import StoreError
from voice_agent.store.models import (
    AddressChangeRow,
    CaseEventRow,
    Claim,
    Handoff,
    ReturnRequestRow,
    ShopRequestRow,
)
from voice_agent.store.outbox import DeskChange, desk_outbox_row
from voice_agent.store.views import CASE_REOPENS, CASE_STATUSES, next_statuses

CaseRow = Handoff | Claim | ReturnRequestRow | ShopRequestRow | AddressChangeRow
CASE_TABLES: dict[str, type[CaseRow]] = {
    "handoff": Handoff,
    "claim": Claim,
    "return": ReturnRequestRow,
    "shop_request": ShopRequestRow,
    "address_change": AddressChangeRow,
}


class DeskError(StoreError):
    """A desk action was refused; the message says why, in the operator's words."""


def words(name: str) -> str:
    return name.replace("_", " ")


def kind_name(kind: str) -> str:
    """A case kind as the desk names it: "claim", "shop request", "hand-off"."""
    return "hand-off" if kind == "handoff" else words(kind)


def reference_of(row: CaseRow) -> str:
    """The case's reference as the desk shows it (address changes have none of their own)."""
    return f"AC-{row.id}" if isinstance(row, AddressChangeRow) else row.reference


def check_status_of_kind(kind: str, status: str) -> None:
    statuses = CASE_STATUSES.get(kind)
    if statuses is None:
        raise DeskError(f"no case kind {kind!r}; one of {', '.join(CASE_STATUSES)}")
    if status not in statuses:
        raise DeskError(
            f"{status!r} is not a status of a {words(kind)}; one of {', '.join(statuses)}"
        )


def locked_case(session: Session, kind: str, case_id: int) -> CaseRow:
    """The case's row, locked until the transaction ends (DeskError: no such case)."""
    table = CASE_TABLES.get(kind)
    if table is None:
        raise DeskError(f"no case kind {kind!r}; one of {', '.join(CASE_STATUSES)}")
    row: CaseRow | None = session.get(table, case_id, with_for_update=True)  # type: ignore[assignment]
    if row is None:
        raise DeskError(f"no {kind_name(kind)} {case_id}")
    return row


def check_seen(session: Session, kind: str, row: CaseRow, seen: str) -> None:
    """Refuse a change based on a status the case no longer has, naming who changed it."""
    if row.status == seen:
        return
    raise DeskError(
        f"{kind_name(kind)} {reference_of(row)} was changed meanwhile by "
        f"{_last_changed_by(session, kind, row)}: it is {words(row.status)} now, not "
        f"{words(seen)}. Nothing was changed; reload the page to see it."
    )


def _last_changed_by(session: Session, kind: str, row: CaseRow) -> str:
    query = (
        select(CaseEventRow.operator)
        .where(
            CaseEventRow.case_kind == kind,
            CaseEventRow.case_id == row.id,
            CaseEventRow.action.in_(("take", "status")),
        )
        .order_by(CaseEventRow.at.desc(), CaseEventRow.id.desc())
        .limit(1)
    )
    operator = session.scalar(query)
    if operator is not None:
        return operator
    if isinstance(row, AddressChangeRow):
        return "an import of the shop's file"
    return "someone outside the desk"


def check_transition(kind: str, row: CaseRow, status: str, admin: bool) -> None:
    """Refuse a status the case may not move to from its current one, naming those it may."""
    allowed = next_statuses(kind, row.status, admin)
    if status in allowed:
        return
    case = f"{kind_name(kind)} {reference_of(row)} is {words(row.status)}"
    if allowed:
        message = f"{case}; it may go to {', '.join(map(words, allowed))} next, not {words(status)}"
    else:
        message = f"{case}, which is final; it cannot go to {words(status)}"
    if not admin and status in CASE_REOPENS.get(kind, {}).get(row.status, ()):
        message += " (only an admin may reopen it)"
    raise DeskError(message)


def apply_status(session: Session, row: CaseRow, status: str, operator: str, now: datetime) -> None:
    """Give the case its new status, with what goes with it (who took it, when confirmed)."""
    row.status = status
    if isinstance(row, Handoff):
        row.taken_by = (row.taken_by or operator) if status != "open" else None
        row.closed_at = now if status == "closed" else None
    if isinstance(row, AddressChangeRow):
        # Confirmed or rejected, it is no longer the caller's unconfirmed change that imports
        # keep (store/address_changes.py): the shop's file decides the order's address again.
        row.confirmed_at = now if status == "confirmed" else None
        if status == "rejected":
            _undo_address_change(session, row)


def _undo_address_change(session: Session, row: AddressChangeRow) -> None:
    """The shop will not ship to the new address: the order shows the one before it again
    (so the agent tells callers where the parcel really goes), passing back over earlier
    changes rejected too; unless a later change replaced it since."""
    order = row.order
    if (order.address, order.postcode) != (row.address, row.postcode):
        return
    address = (row.previous_address, row.previous_postcode)
    earlier = (
        select(AddressChangeRow)
        .where(
            AddressChangeRow.order_id == row.order_id,
            AddressChangeRow.id != row.id,
            AddressChangeRow.requested_at <= row.requested_at,
        )
        .order_by(AddressChangeRow.requested_at.desc(), AddressChangeRow.id.desc())
    )
    for change in session.scalars(earlier):
        if change.status != "rejected" or (change.address, change.postcode) != address:
            break
        address = (change.previous_address, change.previous_postcode)
    order.address, order.postcode = address


def record(
    session: Session,
    kind: str,
    row: CaseRow,
    operator: str,
    action: str,
    at: datetime,
    *,
    from_status: str | None = None,
    text: str = "",
) -> None:
    """Keep the action in the case's history and tell the shop (the outbox), both in the
    action's transaction. ``action`` "take" and "status" record the row's (new) status."""
    status = None if action == "note" else row.status
    session.add(
        CaseEventRow(
            case_kind=kind,
            case_id=row.id,
            operator=operator,
            action=action,
            status=status,
            text=text,
            at=at,
        )
    )
    change = DeskChange(
        kind=kind,
        reference=reference_of(row),
        order_number=None if row.order is None else row.order.number,
        conversation_id=row.conversation_id,
        operator=operator,
        at=at,
        from_status=from_status,
        status=status,
        note=text,
        request_kind=row.kind if isinstance(row, ShopRequestRow) else None,
        requested_at=row.requested_at if isinstance(row, AddressChangeRow) else None,
    )
    session.add(desk_outbox_row(change))
