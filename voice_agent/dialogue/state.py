"""The dialogue's values: a caller's turn in, a reply out, and the state between turns.

All frozen. A reply carries the NEXT state and the writes it implies; the caller of the engine
adopts both only when it commits the turn, so a reply computed and thrown away changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import Enum
from typing import Any

from voice_agent.clock import iso_time
from voice_agent.dialogue.nlu import Intent
from voice_agent.dialogue.policies import OutcomeKind, Party
from voice_agent.stages.asr import Expect
from voice_agent.store.views import Stage
from voice_agent.store.writes import (
    AddressChange,
    ClaimWrite,
    HandoffWrite,
    OrderLock,
    RecordingRefused,
    ReturnRequest,
    ShopRequest,
    TurnWrite,
    VerificationAttempt,
    Write,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UserTurn:
    """What the caller said (ASR text) or typed (keypad digits, e.g. "4567#")."""

    text: str
    dtmf: str | None = None
    confidence: float = 1.0
    """The ASR's confidence in ``text`` (0..1); keypad digits are exact."""
    rewritten: bool = False
    """Digits in ``text`` were inferred by the ASR ("to" taken for 2, "double seven")."""
    language: str | None = None
    """The language the recognizer heard (or typed text reads as); None: not known."""
    language_probability: float = 1.0
    """How sure the recognizer was of ``language`` (0..1)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as verification limits count callers (docs/verification.md)."""

    channel: str
    """"sip", "webrtc", "chat", ..."""
    key: str
    """One caller for the limits: "sip:+4930123456@203.0.113.5", "web:198.51.100.7"."""
    number: str | None = None
    """The phone number the call comes from (the SIP caller ID), where there is one."""


@dataclass(frozen=True, slots=True)
class ReadBack:
    """Digits or letters heard uncertainly, read back; they count once the caller says yes."""

    text: str
    """What the caller said (checked as their answer once confirmed)."""
    value: str
    """What was read back."""


class Awaiting(Enum):
    """The question the agent asked last, whose answer the next turn may be."""

    NOTHING = "nothing"
    ORDER_NUMBER = "order_number"
    FACTOR = "factor"
    CONFIRM_CLAIM = "confirm_claim"
    CONFIRM_RETURN = "confirm_return"
    NEW_ADDRESS = "new_address"
    CONFIRM_ADDRESS = "confirm_address"
    OFFER_HANDOFF = "offer_handoff"
    ANYTHING_ELSE = "anything_else"
    PRODUCT = "product"
    CONFIRM_REQUEST = "confirm_request"
    LOOKUP = "lookup"
    """The e-mail address of a caller without their order number."""
    LOOKUP_FACTOR = "lookup_factor"
    """A second factor for the order found by caller ID or e-mail."""
    CALLBACK_CONTACT = "callback_contact"
    """A phone number or e-mail address to call the caller back on."""
    CONFIRM_CALLBACK = "confirm_callback"
    """Yes or no to the call-back contact offered or read back (or another one instead)."""


EXPECTS: Mapping[Awaiting, Expect] = {
    Awaiting.NOTHING: Expect.FREE,
    Awaiting.ORDER_NUMBER: Expect.DIGITS,
    Awaiting.FACTOR: Expect.EMAIL,
    Awaiting.CONFIRM_CLAIM: Expect.YES_NO,
    Awaiting.CONFIRM_RETURN: Expect.YES_NO,
    Awaiting.NEW_ADDRESS: Expect.FREE,
    Awaiting.CONFIRM_ADDRESS: Expect.YES_NO,
    Awaiting.OFFER_HANDOFF: Expect.YES_NO,
    Awaiting.ANYTHING_ELSE: Expect.YES_NO,
    Awaiting.PRODUCT: Expect.FREE,
    Awaiting.CONFIRM_REQUEST: Expect.YES_NO,
    Awaiting.LOOKUP: Expect.EMAIL,
    Awaiting.LOOKUP_FACTOR: Expect.EMAIL,
    # A phone number or an e-mail address, or "no, call me on ..." instead of a yes: the long
    # hold of a spelled address, and no digit rewriting that would garble an e-mail.
    Awaiting.CALLBACK_CONTACT: Expect.EMAIL,
    Awaiting.CONFIRM_CALLBACK: Expect.EMAIL,
}
"""What ASR and endpointing should expect while the agent waits for each answer."""


@dataclass(frozen=True, slots=True)
class PendingClaim:
    """A claim worked out and read to the caller, opened when they say yes."""

    stage: Stage
    party: Party
    evidence_held: tuple[str, ...]
    evidence_missing: tuple[str, ...]
    outcome: OutcomeKind
    promised_by: date
    kind: str = "lost_parcel"
    """One of store.writes.CLAIM_KINDS."""
    photos_needed: bool = False


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A request for the shop (store.writes.SHOP_REQUEST_KINDS), recorded when they say yes."""

    kind: str
    details: str


@dataclass(frozen=True, slots=True)
class PendingLookup:
    """Orders found for a caller without their order number: the candidates (newest first,
    possibly none: the caller is not told), how they were found, and the factors that may
    confirm them (never the one they were found by)."""

    orders: tuple[str, ...]
    key: str
    """What attempts and locks are counted on: "phone:…" or "email:…"."""
    factors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PendingReturn:
    reason: str


@dataclass(frozen=True, slots=True)
class PendingAddress:
    address: str
    postcode: str


@dataclass(frozen=True, slots=True)
class PendingHandoff:
    reason: str


@dataclass(frozen=True, slots=True)
class PendingCallback:
    """A hand-off promised, waiting for where to call the caller back (its ticket is written
    once the contact is confirmed, refused or given up on)."""

    reason: str
    contact: str | None = None
    """The contact offered or read back, awaiting a yes: "+4917612345678", "anna@example.com"."""
    offered: str | None = None
    """Where an offered contact comes from ("caller", "order_phone", "order_email"); None for
    one the caller gave (read back)."""
    tries: int = 0
    """Answers that gave no usable contact, or read-backs the caller said were wrong."""
    unheard: str | None = None
    """A contact the caller gave whose read-back they cut short: asked for again, and kept
    (unconfirmed) only should they hang up first."""


Pending = (
    PendingClaim
    | PendingReturn
    | PendingAddress
    | PendingHandoff
    | PendingRequest
    | PendingLookup
    | PendingCallback
)


@dataclass(frozen=True, slots=True)
class Line:
    speaker: str
    """"caller" or "agent"."""
    text: str


@dataclass(frozen=True, slots=True)
class DialogueState:
    conversation_id: int | None = None
    verified_order: str | None = None
    """The order the caller proved they own; its details may be spoken."""
    candidate_order: str | None = None
    """The order number given, not yet verified."""
    failed_attempts: int = 0
    """Failed second factors on ``candidate_order`` in this call."""
    intent: Intent | None = None
    """What the caller asked for, kept while they are verified."""
    awaiting: Awaiting = Awaiting.NOTHING
    pending: Pending | None = None
    retries: int = 0
    """How often the current question was asked again without a usable answer."""
    product_sku: str | None = None
    """The product talked about last (for "what is it made of?")."""
    last_reply: tuple[str, ...] = ()
    last_expect: Expect = Expect.FREE
    transcript: tuple[Line, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    """What the call established, for a hand-off: ("order_number", "45067"), ..."""
    ended: bool = False
    goals: tuple[Intent, ...] = ()
    """Requests the caller made that are not answered yet, in order (a turn with several, or
    a question asked while being verified); answered one by one before "anything else?"."""
    frustrated: bool = False
    """The caller sounded frustrated; acknowledged once, a person offered first."""
    overdue_told: tuple[str, ...] = ()
    """Orders whose overdue parcel the caller has been told about in this call."""
    caller: Caller | None = None
    """Who is calling (None: a conversation with no caller ID, counted on its own)."""
    read_back: ReadBack | None = None
    """An answer to the current question read back, awaiting the caller's yes or no."""
    misheard: int = 0
    """Read-backs the caller said were wrong, since the last order number."""
    recording_refused: bool = False
    """The caller objected to the call's recording (voice_agent.dialogue.consent)."""
    language: str = "en"
    """The call's language: replies are said in it, the recognizer listens for it."""
    replied_in: str = "en"
    """The language of the last reply (``last_reply``'s sentences)."""
    language_settled: bool = False
    """The language was hinted (web page, number dialled) or heard on two turns in a row;
    only a turn heard clearly in another language changes it then."""

    def with_line(self, speaker: str, text: str) -> DialogueState:
        return replace(self, transcript=(*self.transcript, Line(speaker, text)))

    def with_fact(self, key: str, value: str) -> DialogueState:
        kept = tuple((k, v) for k, v in self.facts if k != key)
        return replace(self, facts=(*kept, (key, value)))

    def fact(self, key: str) -> str | None:
        return next((value for name, value in self.facts if name == key), None)

    def asking(self, awaiting: Awaiting, pending: Pending | None = None) -> DialogueState:
        """The state after asking a new question (its retry count starts again)."""
        return replace(self, awaiting=awaiting, pending=pending, retries=0, read_back=None)


@dataclass(frozen=True, slots=True)
class Reply:
    chunks: tuple[str, ...]
    """Sentences to speak in order; the first is short so its audio comes fast."""
    writes: tuple[Write, ...]
    """Applied when the turn is committed, in one transaction; never before."""
    state: DialogueState
    """The state after this reply, adopted only on commit."""
    expect: Expect
    end_call: bool = False
    actions: tuple[Mapping[str, Any], ...] = field(default=())
    """What the reply does, for text mode and logs (one entry per write)."""
    language: str = "en"
    """The language the chunks are in (the voice to speak them with)."""

    @property
    def text(self) -> str:
        return " ".join(self.chunks)

    @property
    def listen(self) -> str | None:
        """The language to recognize the caller's next turn in; None: identify it."""
        return self.state.language if self.state.language_settled else None


def describe(write: Write) -> dict[str, Any]:
    """A write as a JSON-ready action ("type" plus its details) for `voice-agent chat`."""
    match write:
        case VerificationAttempt():
            return {
                "type": "verification",
                "order": write.order_number,
                "factor": write.factor,
                "success": write.success,
            }
        case OrderLock():
            return {"type": "lock", "order": write.order_number, "until": iso_time(write.until)}
        case ClaimWrite():
            return {
                "type": "claim",
                "reference": write.reference,
                "order": write.order_number,
                "stage": write.stage,
                "responsible_party": write.responsible_party,
                "evidence_held": list(write.evidence_held),
                "evidence_missing": list(write.evidence_missing),
                "insured": write.insured,
                "outcome": write.outcome,
                "promised_by": write.promised_by.isoformat(),
                "kind": write.kind,
                "photos_needed": write.photos_needed,
            }
        case HandoffWrite():
            return {
                "type": "handoff",
                "reference": write.reference,
                "reason": write.reason,
                "order": write.order_number,
                "callback_by": iso_time(write.callback_by),
                "contact": write.contact,
                "facts": dict(write.facts),
            }
        case ReturnRequest():
            return {
                "type": "return",
                "reference": write.reference,
                "order": write.order_number,
                "reason": write.reason,
            }
        case ShopRequest():
            return {
                "type": write.kind,
                "reference": write.reference,
                "order": write.order_number,
                "details": write.details,
                "reply_by": None if write.reply_by is None else write.reply_by.isoformat(),
            }
        case AddressChange():
            return {
                "type": "address_change",
                "order": write.order_number,
                "address": write.address,
                "postcode": write.postcode,
            }
        case TurnWrite():
            return {"type": "turn", "speaker": write.record.speaker}
        case RecordingRefused():
            return {"type": "recording_refused"}
