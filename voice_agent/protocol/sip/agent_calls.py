"""The SIP user agent's state: its configuration, the calls it holds, and small helpers.

Shared by agent.py (requests in, the wire), agent_outbound.py (INVITEs out) and
agent_registration.py (REGISTER). No sockets, no clock: times come in as arguments.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from voice_agent.protocol.dtmf import EVENT_DIGITS
from voice_agent.protocol.sdp import AudioParameters, LocalMedia, SessionDescription
from voice_agent.protocol.sip.agent_events import Address, Event
from voice_agent.protocol.sip.dialog import AnswerRetransmitter, Dialog
from voice_agent.protocol.sip.message import NameAddr, SipRequest, SipResponse, SipUri
from voice_agent.protocol.sip.timers import DEFAULT_TIMERS, SipTimers
from voice_agent.protocol.sip.transaction import TransactionKey

if TYPE_CHECKING:
    from voice_agent.protocol.sip.session_timer import Agreement, SessionTimer

ALLOWED = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE", "NOTIFY")
"""NOTIFY: the progress of a REFER we sent (agent_transfer.py), within its call only."""
KNOWN_ELSEWHERE = frozenset("REGISTER SUBSCRIBE PUBLISH MESSAGE REFER PRACK".split())
"""Methods we know but do not serve: 405 with Allow. Anything else is 501."""


@dataclass(frozen=True)
class TrunkAccount:
    """The trunk or PBX we register with; its credentials also answer challenges to our INVITEs."""

    registrar: str  # a SIP URI
    username: str
    password: str
    realm: str | None = None  # answer challenges only from this realm (None: any)
    domain: str | None = None  # of the address of record (None: the registrar's host)
    expires_s: int = 300
    retry_s: float = 30.0


@dataclass(frozen=True)
class AgentConfig:
    host: str
    """The address others reach us at: Via, Contact (an IP address, not 0.0.0.0)."""
    port: int
    user_agent: str = "voice-agent"
    timers: SipTimers = DEFAULT_TIMERS
    no_answer_timeout_s: float = 60.0
    """An outbound INVITE not answered by then is cancelled."""
    trunk: TrunkAccount | None = None
    max_message_size: int = 65_535
    transport: str = "UDP"
    """UDP, TCP or TLS: our Via's transport and our Contact's ;transport= (TCP and TLS are
    reliable: the transactions do not retransmit, RFC 3261 §17)."""
    session_expires_s: int = 1800
    """Session timer interval we ask for and accept at most (RFC 4028)."""
    min_se_s: int = 90
    """The smallest session timer interval we accept (smaller: 422 with Min-SE)."""

    @property
    def reliable(self) -> bool:
        return self.transport != "UDP"
    transfer_timeout_s: float = 45.0
    """A REFER whose final NOTIFY has not come by then has failed: the call stays with us."""
    accepting: Callable[[], bool] = field(default=lambda: True)
    """Whether the shell takes new calls now (a line free, not draining): when not, an
    OPTIONS probe is answered 503 with Retry-After, so that a proxy in front of several
    agents (Kamailio's dispatcher) stops sending calls here. (An INVITE is the shell's to
    refuse, with `refuse(..., retry_after_s)`: its call limit counts the refusal.)"""
    retry_after_s: int = 30
    """The Retry-After of that 503."""
    is_proxy: Callable[[str], bool] = field(default=lambda host: False)
    """Whether an address is a trusted proxy's (`server.trusted_proxies`: Kamailio in front
    of several agents): a call through one is from the caller below it in the Vias."""

    @property
    def contact(self) -> NameAddr:
        """Our Contact in calls (its host:port is also our Via sent-by)."""
        params: dict[str, str | None] = {}
        if self.transport != "UDP":
            params["transport"] = self.transport.lower()
        return NameAddr(SipUri(self.host, "agent", self.port, params=params))


Refusal = tuple[SipResponse, str]
"""A response that refuses a request, and why (for the log)."""

Screen = Callable[[SipRequest, Address], Refusal | None]
"""The shell's access rules for a request from outside any dialog: None lets it in."""


def allow_all(request: SipRequest, source: Address) -> Refusal | None:
    return None


@dataclass
class OfferedCall:
    """An INVITE we have not answered yet."""

    invite: SipRequest
    key: TransactionKey
    source: Address
    to_tag: str
    offer: SessionDescription | None
    local: LocalMedia | None = None  # set by ring()
    answer: SessionDescription | None = None  # our answer to the offer, set by ring()
    params: AudioParameters | None = None
    session: Agreement | None = None  # the session timer to put in our 200


@dataclass
class ActiveCall:
    """A call that is up: its dialog and media state."""

    dialog: Dialog
    peer: Address  # where in-dialog requests go
    local: LocalMedia
    params: AudioParameters
    outbound: bool
    retransmitter: AnswerRetransmitter | None = None  # our 2xx, until its ACK comes
    ack: SipRequest | None = None  # outbound: the ACK every copy of the 2xx gets
    offer: SessionDescription | None = None  # our offer (in a 2xx) awaiting its answer in ACK
    held: bool = False
    sdp: bytes = b""  # the SDP we sent last (offer or answer): a refresh sends it again
    session_timer: SessionTimer | None = None

    @property
    def call_id(self) -> str:
        return self.dialog.call_id


ResponseHandler = Callable[[SipResponse, float], None]
TimeoutHandler = Callable[[float], None]


class Wire(Protocol):
    """What the outbound call and the registration may ask of the user agent."""

    def request(
        self,
        request: SipRequest,
        destination: Address,
        on_response: ResponseHandler,
        on_timeout: TimeoutHandler,
        now: float,
    ) -> None: ...

    def send(self, message: SipRequest | SipResponse, destination: Address) -> None: ...

    def emit(self, event: Event) -> None: ...


def is_held(params: AudioParameters) -> bool:
    """On hold: the peer sends only or nothing (our side receives only or is inactive), or
    its address is 0.0.0.0 (RFC 2543 hold, still sent by old PBXs)."""
    return params.on_hold or params.remote_address in ("0.0.0.0", "::")


def caller_address(
    request: SipRequest, source: Address, is_proxy: Callable[[str], bool]
) -> Address:
    """Where a request really comes from: `source`, unless that is a trusted proxy; then the
    first Via below the proxies' own, where the proxy saw it come from (its received and
    rport, else the Via's sent-by). Replies still go to `source`, the proxy."""
    address = source
    if not is_proxy(source[0]):
        return address
    for via in request.vias[1:]:  # the first is the proxy's own
        host = (via.received or via.host).strip("[]")
        address = (host, via.rport or via.port or 5060)
        if not is_proxy(host):
            break
    return address


def caller_id(invite: SipRequest, source: Address) -> str:
    """The caller ID and the address the INVITE came from ("+4930123456@203.0.113.5"): one
    caller for the verification limits."""
    uri = invite.from_addr.uri
    return f"{uri.user or uri}@{source[0]}"


def dialled(invite: SipRequest) -> str | None:
    try:
        return invite.request_uri.user
    except ValueError:  # a hint only
        return None


def info_digit(info: SipRequest) -> str | None:
    """The key of a SIP INFO keypad message (application/dtmf-relay or application/dtmf)."""
    text = info.body.decode("utf-8", "replace").strip()
    if info.content_type == "application/dtmf-relay":
        for line in text.splitlines():
            name, _, value = line.partition("=")
            if name.strip().lower() == "signal":
                text = value.strip()
                break
        else:
            return None
    elif info.content_type != "application/dtmf":
        return None
    if text == "10":
        text = "*"
    elif text == "11":
        text = "#"
    text = text.upper()
    return text if len(text) == 1 and text in EVENT_DIGITS else None


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def next_hop(dialog: Dialog, fallback: Address) -> Address:
    """Where in-dialog requests go: the first route, else the remote target (IP hosts; a name
    falls back to where the dialog's first request came from: the shell resolves no names)."""
    uri = dialog.route_set[0].uri if dialog.route_set else dialog.remote_target
    if is_ip(uri.host):
        return (uri.host.strip("[]"), uri.port or 5060)
    return fallback
