"""Cases as the desk lists them: one CaseItem shape for claims, returns, shop requests and
address changes, each with the few facts the shop's team acts on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from voice_agent.store.desk_views import CaseItem
from voice_agent.store.models import AddressChangeRow, Claim, ReturnRequestRow, ShopRequestRow


def case_items(session: Session, kind: str) -> list[CaseItem]:
    """Every case of a kind, newest first, without its events."""
    table, opened, describe = _KINDS[kind]
    query = select(table).options(selectinload(table.order)).order_by(opened.desc(), table.id)
    return [describe(row) for row in session.scalars(query)]


def _words(name: str) -> str:
    return name.replace("_", " ")


def _claim(row: Claim) -> CaseItem:
    details = [
        ("stage", _words(row.stage)),
        ("responsible", row.responsible_party),
        ("insured", "yes" if row.insured else "no"),
        ("promised by", row.promised_by.isoformat()),
        ("outcome told", row.outcome),
    ]
    if row.evidence_missing:
        details.append(("evidence missing", ", ".join(row.evidence_missing)))
    if row.photos_needed:
        details.append(("photos", "ask the shopper for photos"))
    return CaseItem(
        kind="claim",
        id=row.id,
        reference=row.reference,
        title=f"{_words(row.kind)} claim",
        order_number=row.order.number,
        status=row.status,
        opened_at=row.opened_at,
        conversation_id=row.conversation_id,
        details=tuple(details),
    )


def _return(row: ReturnRequestRow) -> CaseItem:
    return CaseItem(
        kind="return",
        id=row.id,
        reference=row.reference,
        title="return",
        order_number=row.order.number,
        status=row.status,
        opened_at=row.requested_at,
        conversation_id=row.conversation_id,
        details=(("reason", row.reason), ("items", ", ".join(row.skus) or "all")),
    )


def _shop_request(row: ShopRequestRow) -> CaseItem:
    details = [("details", row.details)]
    if row.reply_by is not None:
        details.append(("reply by", row.reply_by.isoformat()))
    return CaseItem(
        kind="shop_request",
        id=row.id,
        reference=row.reference,
        title=_words(row.kind),
        order_number=None if row.order is None else row.order.number,
        status=row.status,
        opened_at=row.requested_at,
        conversation_id=row.conversation_id,
        details=tuple(details),
    )


def _address_change(row: AddressChangeRow) -> CaseItem:
    before = ", ".join(part for part in (row.previous_address, row.previous_postcode) if part)
    after = ", ".join(part for part in (row.address, row.postcode) if part)
    details = [("new address", after), ("was", before or "not known")]
    if row.confirmed_at is not None:
        details.append(("confirmed at", row.confirmed_at.isoformat(timespec="minutes")))
    return CaseItem(
        kind="address_change",
        id=row.id,
        reference=f"AC-{row.id}",
        title="new address",
        order_number=row.order.number,
        status=row.status,
        opened_at=row.requested_at,
        conversation_id=row.conversation_id,
        details=tuple(details),
    )


_KINDS: dict[str, tuple[Any, Any, Callable[[Any], CaseItem]]] = {
    "claim": (Claim, Claim.opened_at, _claim),
    "return": (ReturnRequestRow, ReturnRequestRow.requested_at, _return),
    "shop_request": (ShopRequestRow, ShopRequestRow.requested_at, _shop_request),
    "address_change": (AddressChangeRow, AddressChangeRow.requested_at, _address_change),
}
