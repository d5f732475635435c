"""What the desk reads from the store: frozen values, never ORM objects.

Times are timezone-aware UTC datetimes. Verification values (postcodes, phone digits said by
a caller) never reach these views: an attempt is its factor and its outcome only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class OperatorView:
    id: int
    username: str
    role: str
    """One of OPERATOR_ROLES."""
    created_at: datetime
    disabled: bool


@dataclass(frozen=True, slots=True)
class DeskSessionView:
    """A signed-in browser, found by its token's hash."""

    operator: OperatorView
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CaseEventView:
    operator: str
    action: str
    """"take", "note" or "status"."""
    status: str | None
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HandoffCase:
    """A hand-off as the queue shows it: who to call back, how, why, by when."""

    id: int
    reference: str
    reason: str
    facts: Mapping[str, str]
    callback_by: datetime
    created_at: datetime
    status: str
    order_number: str | None
    conversation_id: int | None
    caller_id: str | None
    """The conversation's caller (a SIP URI, a web caller's key), where there was one."""
    channel: str | None
    contact: str | None
    taken_by: str | None
    closed_at: datetime | None
    events: tuple[CaseEventView, ...] = ()

    @property
    def reach(self) -> str | None:
        """How to reach the caller back: the contact they gave, else the number they called
        from (a phone line's caller id; a web call has none)."""
        if self.contact:
            return self.contact
        if self.channel == "sip" and self.caller_id:
            # "sip:+4930555@203.0.113.9": the number is the URI's user part
            user = self.caller_id.removeprefix("sips:").removeprefix("sip:").split("@", 1)[0]
            return user or self.caller_id
        return None

    def overdue(self, now: datetime) -> bool:
        return self.status != "closed" and self.callback_by < now


@dataclass(frozen=True, slots=True)
class CaseItem:
    """A claim, return, shop request or address change, with what the desk shows of it."""

    kind: str
    """One of CASE_KINDS (not "handoff": the queue shows those)."""
    id: int
    reference: str
    title: str
    """What it is in a few words: "lost parcel claim", "cancellation", "new address"."""
    order_number: str | None
    status: str
    opened_at: datetime
    conversation_id: int | None
    details: tuple[tuple[str, str], ...] = ()
    """Label and value pairs shown with it."""
    events: tuple[CaseEventView, ...] = ()


@dataclass(frozen=True, slots=True)
class CallQuery:
    """A call history search; empty fields do not filter."""

    order_number: str = ""
    phone: str = ""
    email: str = ""
    since: date | None = None
    until: date | None = None
    """Inclusive: calls started on that day count."""
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True, slots=True)
class CallSummary:
    id: int
    channel: str
    caller_id: str | None
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    turns: int
    order_numbers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallPage:
    calls: tuple[CallSummary, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True, slots=True)
class TranscriptTurn:
    seq: int
    speaker: str
    text: str
    started_at: datetime
    interrupted: bool
    played_text: str | None
    latency_marks: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallAction:
    """Something the agent did or recorded in a call."""

    kind: str
    """"claim", "return", "shop_request", "address_change", "handoff", "verification",
    "lock"."""
    at: datetime
    summary: str
    reference: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class CallDetail:
    summary: CallSummary
    end_reason: str | None
    recording_path: str | None
    recording_consent: bool | None
    turns: tuple[TranscriptTurn, ...]
    actions: tuple[CallAction, ...]


@dataclass(frozen=True, slots=True)
class StatsRows:
    """The raw material of the statistics page, for calls started in a date range."""

    calls: tuple[tuple[datetime, str | None], ...]
    """Each call's start and outcome."""
    verifications: tuple[tuple[datetime, bool], ...]
    """Each verification attempt's time and success."""
    locks: tuple[datetime, ...]
    """When each lock was set (its conversation's start; locks carry no own time)."""
    first_audio: tuple[tuple[datetime, float], ...]
    """Each agent turn answering the caller: its start and first_audio_sent (ms)."""
