"""What the dialogue engine reads from the store: frozen values, never ORM objects.

Times are timezone-aware UTC datetimes; money is ``Decimal`` in the order's currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, get_args

Stage = Literal["pickup", "export_customs", "international", "import_customs", "last_mile"]
"""The five stages of a cross-border shipment, in the order a parcel passes them."""

STAGES: tuple[Stage, ...] = get_args(Stage)

Incoterm = Literal["DDP", "DAP", "DDU"]
"""Who pays import duties: DDP the seller; DAP and DDU the buyer."""

INCOTERMS: tuple[Incoterm, ...] = get_args(Incoterm)

OPERATOR_ROLES = ("agent", "admin")
"""Desk roles: an agent works the cases; an admin also manages operators."""

CALL_OUTCOMES = ("completed", "handoff", "no_speech", "error")
"""How a call went: ended with no hand-off, handed to a person, the caller never spoke, or
the session failed."""

CASE_STATUSES: dict[str, tuple[str, ...]] = {
    "handoff": ("open", "taken", "closed"),
    "claim": ("open", "in_review", "accepted", "rejected", "closed"),
    "return": ("open", "approved", "rejected", "received", "refunded", "closed"),
    "shop_request": ("open", "in_progress", "done", "declined"),
    "address_change": ("unconfirmed", "confirmed", "rejected"),
}
"""Each case kind's statuses, the first the one the agent opens it with."""

CASE_KINDS = tuple(CASE_STATUSES)

CASE_TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "handoff": {"open": ("taken", "closed"), "taken": ("open", "closed"), "closed": ()},
    "claim": {
        "open": ("in_review",),
        "in_review": ("accepted", "rejected"),
        "accepted": ("closed",),
        "rejected": ("closed",),
        "closed": (),
    },
    "return": {
        "open": ("approved", "rejected"),
        "approved": ("received",),
        "received": ("refunded",),
        "refunded": ("closed",),
        "rejected": ("closed",),
        "closed": (),
    },
    "shop_request": {"open": ("in_progress",), "in_progress": ("done", "declined")},
    "address_change": {"unconfirmed": ("confirmed", "rejected")},
}
"""The statuses a case may move to from each of its kind's statuses (docs/desk.md); a
status missing here, or with none, is final. A taken hand-off may go back to the queue."""

CASE_REOPENS: dict[str, dict[str, tuple[str, ...]]] = {
    "handoff": {"closed": ("open",)},
    "claim": {"rejected": ("in_review",), "closed": ("in_review",)},
    "return": {"rejected": ("open",)},
    "shop_request": {"done": ("in_progress",), "declined": ("in_progress",)},
}
"""What an admin (only) may also do: reopen a finished case, to correct a mistake. An
address change the shop was told is confirmed or rejected is never reopened."""


def next_statuses(kind: str, status: str, admin: bool = False) -> tuple[str, ...]:
    """The statuses a case of ``kind`` in ``status`` may move to (by an admin: or reopen)."""
    moves = CASE_TRANSITIONS.get(kind, {}).get(status, ())
    if admin:
        moves += CASE_REOPENS.get(kind, {}).get(status, ())
    return moves


@dataclass(frozen=True, slots=True)
class CustomerView:
    name: str
    email: str
    phone: str
    postcode: str | None
    country: str
    """ISO 3166-1 alpha-2 code of the shipping address, e.g. "DE", "GB"."""
    address: str | None = None
    """Street and city of the shipping address, where the shop gave it."""


@dataclass(frozen=True, slots=True)
class ItemView:
    sku: str
    name: str
    qty: int
    price: Decimal
    """Unit price in the order's currency."""


@dataclass(frozen=True, slots=True)
class EventView:
    at: datetime
    stage: Stage
    place: str
    text: str


@dataclass(frozen=True, slots=True)
class ShipmentView:
    carrier: str
    last_mile: str | None
    """The courier that delivers in the destination country, where known."""
    tracking: str
    compensation: bool
    """Whether the carrier offers compensation for a lost parcel."""
    events: tuple[EventView, ...]
    """Sorted by time, oldest first."""
    expected_delivery: date | None = None

    @property
    def last_event(self) -> EventView | None:
        return self.events[-1] if self.events else None


@dataclass(frozen=True, slots=True)
class ReturnRecordView:
    """A return in the shop's records: when it was asked for, when the items came back."""

    requested_at: datetime
    received_at: datetime | None


RefundStatus = Literal["pending", "approved", "paid", "refused"]
REFUND_STATUSES: tuple[RefundStatus, ...] = get_args(RefundStatus)


@dataclass(frozen=True, slots=True)
class RefundView:
    """A refund in the shop's records; ``at`` is when it reached ``status``."""

    amount: Decimal
    status: RefundStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderView:
    number: str
    placed_at: datetime
    currency: str
    insured: bool
    incoterm: Incoterm
    customer: CustomerView
    items: tuple[ItemView, ...]
    shipment: ShipmentView | None
    """None until the order is handed to a carrier."""
    returns: tuple[ReturnRecordView, ...] = ()
    """The shop's return records, oldest first."""
    refunds: tuple[RefundView, ...] = ()
    """The shop's refund records, oldest first."""

    @property
    def total(self) -> Decimal:
        return sum((item.price * item.qty for item in self.items), Decimal(0))


@dataclass(frozen=True, slots=True)
class ProductView:
    sku: str
    name: str
    attributes: Mapping[str, str]
    """Free-form facts ("size", "material", ...); ``ship_time.XX`` per destination country
    and ``ship_time.default`` by convention (docs/import-format.md)."""
    names: Mapping[str, str] = field(default_factory=dict)
    """The shop's name for it per language code ("de" -> "Kaffeebecher"), where given."""
    attributes_i18n: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Attribute values per language code: {"de": {"material": "Steinzeug"}}, where given."""

    def name_in(self, language: str) -> str:
        """The name to say in ``language``: the shop's own for it, else ``name`` as it is."""
        return self.names.get(language, self.name)

    def attribute_in(self, attribute: str, language: str) -> str:
        """The value of ``attribute`` to say in ``language`` (it must be one of ``attributes``):
        the shop's translation, else the value as written."""
        return self.attributes_i18n.get(language, {}).get(attribute, self.attributes[attribute])


def text_key(text: str) -> str:
    """How a shop text is looked up: case, spacing and a final full stop do not matter
    ("Out for delivery." and "out for  delivery" are the same text)."""
    return " ".join(text.split()).rstrip(".").casefold()


@dataclass(frozen=True, slots=True)
class ShopTexts:
    """The shop's translations of its own texts (carriers' event texts, evidence names, ...)."""

    keyed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Language code -> {``text_key`` of the text as stored: the text as said in that
    language}; build it with ``ShopTexts.of``."""

    @classmethod
    def of(cls, translations: Mapping[str, Mapping[str, str]]) -> ShopTexts:
        """From the shop file's table: language code -> {text as stored: translation}."""
        return cls(
            {
                language: {text_key(source): said for source, said in table.items()}
                for language, table in translations.items()
            }
        )

    def translated(self, language: str, text: str) -> str | None:
        """The shop's translation of ``text`` into ``language``, or None where it has none."""
        return self.keyed.get(language, {}).get(text_key(text))

    def text(self, language: str, text: str) -> str:
        """``text`` in ``language`` where the shop translated it, else as it is."""
        return self.translated(language, text) or text


@dataclass(frozen=True, slots=True)
class ClaimView:
    reference: str
    order_number: str
    stage: Stage
    responsible_party: str
    evidence_held: tuple[str, ...]
    evidence_missing: tuple[str, ...]
    insured: bool
    outcome: str
    promised_by: date
    status: str
    opened_at: datetime
    conversation_id: int | None
    kind: str = "lost_parcel"
    photos_needed: bool = False


@dataclass(frozen=True, slots=True)
class ShopRequestView:
    reference: str
    kind: str
    order_number: str | None
    details: str
    requested_at: datetime
    reply_by: date | None
    status: str
    conversation_id: int | None


@dataclass(frozen=True, slots=True)
class HandoffView:
    reference: str
    reason: str
    transcript: str
    facts: Mapping[str, str]
    callback_by: datetime
    created_at: datetime
    order_number: str | None
    conversation_id: int | None
    status: str
    contact: str | None = None
    """How to reach the caller back (a phone number or e-mail address), where known."""
    taken_by: str | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReturnView:
    reference: str
    order_number: str
    reason: str
    skus: tuple[str, ...]
    requested_at: datetime
    status: str
    conversation_id: int | None


@dataclass(frozen=True, slots=True)
class ConversationView:
    id: int
    channel: str
    caller_id: str | None
    started_at: datetime
    ended_at: datetime | None
    instance_id: str | None
    end_reason: str | None
    outcome: str | None = None
    """One of CALL_OUTCOMES, once the call has ended."""
    recording_path: str | None = None
    """The call's audio, relative to the recordings folder; None: not recorded."""
    recording_consent: bool | None = None
    """None: recordings were off; True: told and recorded; False: the caller objected."""
    direction: str = "inbound"
    """"outbound": the agent placed the call (for ``purpose``, about ``case_reference``)."""
    purpose: str | None = None
    case_reference: str | None = None


@dataclass(frozen=True, slots=True)
class AddressChangeView:
    """A new shipping address an agent took for an order, and whether the shop has it."""

    order_number: str
    address: str
    postcode: str | None
    previous_address: str | None
    previous_postcode: str | None
    requested_at: datetime
    conversation_id: int | None
    status: str
    """One of CASE_STATUSES["address_change"]: "unconfirmed" until an import of the shop's
    file carries it (or the team decides at the desk)."""
    confirmed_at: datetime | None = None
