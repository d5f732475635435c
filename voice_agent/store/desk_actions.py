"""What the agent did in one call, as the desk's call detail lists it: the cases it opened,
and the identity checks and locks with their outcome (never the value the caller said)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voice_agent.store.desk_views import CallAction
from voice_agent.store.models import (
    AddressChangeRow,
    Claim,
    Handoff,
    OrderLockRow,
    ReturnRequestRow,
    ShopRequestRow,
    VerificationAttemptRow,
)


def call_actions(session: Session, conversation_id: int) -> list[CallAction]:
    """Every action of the call, oldest first."""

    def rows(table: Any) -> Any:
        return session.scalars(select(table).where(table.conversation_id == conversation_id))

    actions = [describe(row) for table, describe in _CASES for row in rows(table)]
    attempts = list(rows(VerificationAttemptRow))
    actions += [_verification(attempt) for attempt in attempts]
    last_failure = _last_failures(attempts)
    actions += [_lock(lock, last_failure) for lock in rows(OrderLockRow)]
    return sorted(actions, key=lambda action: action.at)


def _words(name: str) -> str:
    return name.replace("_", " ")


def _claim(row: Claim) -> CallAction:
    summary = f"{_words(row.kind)} claim on order {row.order.number}"
    return CallAction("claim", row.opened_at, summary, row.reference, row.status)


def _return(row: ReturnRequestRow) -> CallAction:
    summary = f"return of order {row.order.number}: {row.reason}"
    return CallAction("return", row.requested_at, summary, row.reference, row.status)


def _shop_request(row: ShopRequestRow) -> CallAction:
    on = "" if row.order is None else f" on order {row.order.number}"
    summary = f"{_words(row.kind)}{on}"
    return CallAction("shop_request", row.requested_at, summary, row.reference, row.status)


def _address_change(row: AddressChangeRow) -> CallAction:
    summary = f"new address for order {row.order.number}: {row.address}"
    return CallAction("address_change", row.requested_at, summary, None, row.status)


def _handoff(row: Handoff) -> CallAction:
    return CallAction("handoff", row.created_at, row.reason, row.reference, row.status)


_CASES: tuple[tuple[Any, Callable[[Any], CallAction]], ...] = (
    (Claim, _claim),
    (ReturnRequestRow, _return),
    (ShopRequestRow, _shop_request),
    (AddressChangeRow, _address_change),
    (Handoff, _handoff),
)


def _verification(row: VerificationAttemptRow) -> CallAction:
    outcome = "passed" if row.success else "failed"
    summary = f"identity check on order {row.order_number} by {row.factor}: {outcome}"
    return CallAction("verification", row.at, summary, None, outcome)


def _last_failures(attempts: list[VerificationAttemptRow]) -> dict[str, datetime]:
    last: dict[str, datetime] = {}
    for attempt in attempts:
        if not attempt.success:
            last[attempt.order_number] = max(attempt.at, last.get(attempt.order_number, attempt.at))
    return last


def _lock(row: OrderLockRow, last_failure: dict[str, datetime]) -> CallAction:
    who = "this caller" if row.caller is not None else "every caller"
    summary = f"order {row.order_number} locked for {who} until {row.until:%Y-%m-%d %H:%M} UTC"
    # A lock follows the failed check that set it; it keeps no time of its own.
    at = last_failure.get(row.order_number, row.until)
    return CallAction("lock", at, summary, None, "locked")
