"""Address changes an agent takes for the shop, and how imports of the shop's file meet them.

An agent changes an order's address at once (the caller was told it is done) and records the
change as "unconfirmed". The shop's next file either carries the new address (the shop has
applied it: the change becomes "confirmed") or does not yet (the file still has the old
address, or another one): then the import keeps the agent's address on the order and reports
the change, so a re-import never silently undoes what a caller was promised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from voice_agent.store.models import AddressChangeRow, Order
from voice_agent.store.views import CASE_STATUSES, AddressChangeView
from voice_agent.store.writes import AddressChange

UNCONFIRMED, CONFIRMED = CASE_STATUSES["address_change"][:2]


def change_address(session: Session, order: Order, write: AddressChange) -> None:
    """Give the order its new address and keep the change (and the old address) in history."""
    session.add(
        AddressChangeRow(
            order_id=order.id,
            address=write.address,
            postcode=write.postcode,
            previous_address=order.address,
            previous_postcode=order.postcode,
            requested_at=write.requested_at,
            conversation_id=write.conversation_id,
            status=UNCONFIRMED,
        )
    )
    order.address = write.address
    order.postcode = write.postcode


def unconfirmed_address_changes(session: Session) -> list[AddressChangeView]:
    """Every change the shop has not confirmed, oldest first (the desk shows them)."""
    query = (
        select(AddressChangeRow)
        .where(AddressChangeRow.status == UNCONFIRMED)
        .options(selectinload(AddressChangeRow.order))
        .order_by(AddressChangeRow.requested_at, AddressChangeRow.id)
    )
    return [_view(row) for row in session.scalars(query)]


def _view(row: AddressChangeRow) -> AddressChangeView:
    return AddressChangeView(
        order_number=row.order.number,
        address=row.address,
        postcode=row.postcode,
        previous_address=row.previous_address,
        previous_postcode=row.previous_postcode,
        requested_at=row.requested_at,
        conversation_id=row.conversation_id,
        status=row.status,
        confirmed_at=row.confirmed_at,
    )


# --- imports ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeptAddressChange:
    """An order whose imported address was not applied: the agent's change stands."""

    order_number: str
    address: str
    """The agent's address, kept on the order."""
    postcode: str | None
    file_address: str | None
    """What the shop's file says (usually the address before the change)."""
    file_postcode: str | None

    def __str__(self) -> str:
        kept = ", ".join(part for part in (self.address, self.postcode) if part)
        return f"order {self.order_number} (kept {kept!r})"


def unconfirmed_by_order(
    session: Session, order_ids: Iterable[int]
) -> dict[int, list[AddressChangeRow]]:
    """The unconfirmed changes of these orders, oldest first per order."""
    ids = sorted(set(order_ids))
    found: dict[int, list[AddressChangeRow]] = {}
    for start in range(0, len(ids), 500):  # well under every backend's bound-parameter limit
        query = (
            select(AddressChangeRow)
            .where(
                AddressChangeRow.order_id.in_(ids[start : start + 500]),
                AddressChangeRow.status == UNCONFIRMED,
            )
            .order_by(AddressChangeRow.requested_at, AddressChangeRow.id)
        )
        for row in session.scalars(query):
            found.setdefault(row.order_id, []).append(row)
    return found


def settle_imported_address(
    order: Order, changes: Sequence[AddressChangeRow], imported_at: datetime | None
) -> KeptAddressChange | None:
    """After an import filled ``order`` from the shop's file: confirm the order's unconfirmed
    ``changes`` if the file has the latest one's address, or else put that address back on the
    order and return what was kept. ``imported_at`` becomes their ``confirmed_at`` (None: not
    known)."""
    if not changes:
        return None
    latest = changes[-1]
    if _same_address(order, latest):
        # The shop has the address the caller asked for last: the earlier steps are settled too.
        for change in changes:
            change.status = CONFIRMED
            change.confirmed_at = imported_at
        return None
    kept = KeptAddressChange(
        order_number=order.number,
        address=latest.address,
        postcode=latest.postcode,
        file_address=order.address,
        file_postcode=order.postcode,
    )
    order.address = latest.address
    order.postcode = latest.postcode
    return kept


def _same_address(order: Order, change: AddressChangeRow) -> bool:
    # Written by different people: case, spacing and spaces inside postcodes may differ.
    return _words(order.address) == _words(change.address) and _compact(order.postcode) == _compact(
        change.postcode
    )


def _words(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _compact(text: str | None) -> str:
    return "".join((text or "").split()).casefold()
