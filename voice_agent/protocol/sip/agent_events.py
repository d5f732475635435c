"""What the SIP user agent (agent.py) hands its shell: datagrams to send, events, a deadline.

Every method of `UserAgent` returns one `Output`. The shell sends each datagram, acts on each
event (open the media, run the session, release the line) and calls `on_timer(now)` again at
`deadline` at the latest. Nothing here touches a socket or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from voice_agent.protocol.sdp import AudioParameters, SessionDescription

Address = tuple[str, int]


class Datagram(NamedTuple):
    data: bytes
    destination: Address


@dataclass(frozen=True)
class CallOffered:
    """A new INVITE passed every check: the shell answers it (`ring`, `answer`) or `refuse`s."""

    call_id: str
    caller_id: str
    """The caller ID and the address the INVITE came from ("+4930123456@203.0.113.5")."""
    dialled: str | None
    """The number the caller dialled (the Request-URI's user), a hint for the language."""
    source: Address
    offer: SessionDescription | None  # None: the INVITE had no offer; ours goes in the 200


@dataclass(frozen=True)
class CallRinging:
    """`ring` agreed on the media and sent 180: the shell opens RTP with these parameters."""

    call_id: str
    params: AudioParameters


@dataclass(frozen=True)
class CallAnswered:
    """The call is up (our 200 sent, or the callee's 200 acknowledged): run the session."""

    call_id: str
    params: AudioParameters
    peer: Address
    outbound: bool


@dataclass(frozen=True)
class MediaChanged:
    """A re-INVITE or a late answer (in an ACK) changed the media: update the RTP session."""

    call_id: str
    params: AudioParameters


@dataclass(frozen=True)
class CallHeld:
    """The peer put the call on hold (sendonly, inactive, or c=0.0.0.0)."""

    call_id: str


@dataclass(frozen=True)
class CallResumed:
    """The peer took the call off hold (sendrecv again)."""

    call_id: str


@dataclass(frozen=True)
class CallEnded:
    """The call is over (or never came about): release its line and close its media.

    `status` is the final SIP status when the call ended before it was up (the INVITE's
    refusal, 487 when cancelled, 408 when nobody answered), else None."""

    call_id: str
    reason: str
    status: int | None = None


@dataclass(frozen=True)
class Digit:
    """A keypad digit sent by SIP INFO (RTP events are read by the media, not here)."""

    call_id: str
    digit: str


@dataclass(frozen=True)
class TransferProgress:
    """How our REFER of a call goes: the REFER's answer (202), then each NOTIFY's sipfrag
    status (100, 180, 200, 486...). `final`: the transfer is over; a 2xx means the caller now
    talks to the target (our leg is being ended), anything else that it failed (408: no answer
    in time) and the call goes on with us."""

    call_id: str
    status: int
    final: bool

    @property
    def succeeded(self) -> bool:
        return self.final and 200 <= self.status < 300


@dataclass(frozen=True)
class Registered:
    registrar: str
    expires_s: int
    until: float
    algorithm: str | None  # the digest algorithm of the challenge answered, if any


@dataclass(frozen=True)
class Unregistered:
    registrar: str


@dataclass(frozen=True)
class RegistrationFailed:
    registrar: str
    reason: str
    retry_at: float | None  # None: not retried (we are unregistering)


@dataclass(frozen=True)
class MalformedMessage:
    """An unreadable datagram (answered 400 when its head allowed): the shell may charge the
    source more against its rate limit."""

    source: Address
    error: str


Event = (
    CallOffered
    | CallRinging
    | CallAnswered
    | MediaChanged
    | CallHeld
    | CallResumed
    | CallEnded
    | Digit
    | TransferProgress
    | Registered
    | Unregistered
    | RegistrationFailed
    | MalformedMessage
)


@dataclass(frozen=True)
class Output:
    send: tuple[Datagram, ...] = ()
    events: tuple[Event, ...] = ()
    deadline: float | None = None
    """Call `on_timer` at this time at the latest (None: nothing is due)."""
