"""The writes a reply implies, as plain values.

The engine returns them with its reply and computes nothing else with side effects; the call
session hands them to ``Repository.apply`` when it commits the turn, all in one transaction, so
a speculative reply that is thrown away changes nothing. Every time is timezone-aware and passed
in by the caller (the store never reads the wall clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from voice_agent.store.views import Stage


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationAttempt:
    """One identity check; stored whatever its outcome (the order number may not exist)."""

    order_number: str
    factor: str
    """Which second factor was tried: "postcode", "email", "phone", ..."""
    success: bool
    at: datetime
    conversation_id: int | None = None
    caller: str | None = None
    """Who tried, as limits count callers: "sip:+4930...@203.0.113.5", "web:198.51.100.7"."""
    near_miss: bool = False
    """A failure one digit off (or two neighbours swapped) from the order's value."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLock:
    """No verification for this order number until ``until``: for ``caller`` only, or for
    every caller when ``caller`` is None (seen by every conversation)."""

    order_number: str
    until: datetime
    conversation_id: int | None = None
    caller: str | None = None


CLAIM_KINDS = ("lost_parcel", "not_received", "damaged_item", "wrong_item", "missing_item")
"""What a claim is about; every kind is one ``ClaimWrite`` (and one row in ``claims``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimWrite:
    reference: str
    order_number: str
    stage: Stage
    responsible_party: str
    evidence_held: tuple[str, ...]
    evidence_missing: tuple[str, ...]
    insured: bool
    outcome: str
    promised_by: date
    opened_at: datetime
    conversation_id: int | None = None
    status: str = "open"
    kind: str = "lost_parcel"
    """One of CLAIM_KINDS."""
    photos_needed: bool = False
    """The shop must ask the shopper for photos before deciding (the agent cannot)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffWrite:
    reference: str
    reason: str
    transcript: str
    facts: Mapping[str, str]
    callback_by: datetime
    created_at: datetime
    order_number: str | None = None
    conversation_id: int | None = None
    contact: str | None = None
    """How to reach the caller back: the phone number or e-mail address read back to them
    (a phone caller's own number where they gave no other)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnRequest:
    reference: str
    order_number: str
    reason: str
    skus: tuple[str, ...]
    """The items to return; empty for the whole order."""
    requested_at: datetime
    conversation_id: int | None = None


SHOP_REQUEST_KINDS = (
    "cancellation",
    "invoice",
    "duplicate_charge",
    "complaint",
    "tracking_link",
)
"""What the shop's team is asked to do: the agent records it, never does it itself."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopRequest:
    """Something only the shop can do, recorded for its team with a reference the caller
    keeps: cancel an order, send an invoice or a tracking link, look into a double charge,
    answer a complaint."""

    reference: str
    kind: str
    """One of SHOP_REQUEST_KINDS."""
    order_number: str | None
    details: str
    """What the caller said and what the agent found, for the person who acts on it."""
    requested_at: datetime
    reply_by: date | None = None
    """The day by which the caller was told the shop would answer."""
    conversation_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressChange:
    """A new shipping address for an order not yet dispatched; the old one is kept in history."""

    order_number: str
    address: str
    postcode: str | None
    requested_at: datetime
    conversation_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnRecord:
    """One turn of a conversation as it happened: who spoke, what, when, what was heard."""

    speaker: str
    """"caller" or "agent"."""
    text: str
    started_at: datetime
    ended_at: datetime
    interrupted: bool = False
    played_text: str | None = None
    """For agent turns: the part the caller actually heard (all of it unless interrupted)."""
    latency_marks: Mapping[str, float] = field(default_factory=dict)
    """For agent turns: milliseconds from the end of the caller's speech to each latency mark
    (endpoint, asr_final, reply_first_text, tts_first_audio, first_audio_sent)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnWrite:
    """A turn stored in the same transaction as the writes its reply implies."""

    conversation_id: int
    record: TurnRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingRefused:
    """The caller objected to the call being recorded: what was recorded is discarded, and the
    conversation says so (``recording_consent`` False)."""

    conversation_id: int


Write = (
    VerificationAttempt
    | OrderLock
    | ClaimWrite
    | HandoffWrite
    | ReturnRequest
    | ShopRequest
    | AddressChange
    | TurnWrite
    | RecordingRefused
)
