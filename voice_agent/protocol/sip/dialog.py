"""SIP dialogs (RFC 3261 §12-15) and the UAS core's 2xx retransmission (§13.3.1.4).

A ``Dialog`` holds what both ends agreed on (Call-ID, tags, route set, remote
target, sequence numbers) and builds in-dialog requests (BYE, re-INVITE, ACK)
and responses.  It sends nothing itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from voice_agent.protocol.sip.message import (
    NameAddr,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    Via,
    build_response,
    new_branch,
)
from voice_agent.protocol.sip.timers import DEFAULT_TIMERS, SipTimers

logger = logging.getLogger(__name__)

__all__ = [
    "AnswerRetransmitter",
    "Dialog",
    "DialogId",
    "DialogState",
    "RetransmitOutput",
    "build_cancel",
    "build_response",
]


class DialogState(Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


@dataclass(frozen=True)
class DialogId:
    call_id: str
    local_tag: str
    remote_tag: str

    @classmethod
    def of_incoming_request(cls, request: SipRequest) -> DialogId:
        """For a request we received, our tag is in To and theirs in From."""
        return cls(request.call_id, request.to_addr.tag or "", request.from_addr.tag or "")

    @classmethod
    def of_incoming_response(cls, response: SipResponse) -> DialogId:
        """For a response to our request, our tag is in From and theirs in To."""
        return cls(response.call_id, response.from_addr.tag or "", response.to_addr.tag or "")


@dataclass
class Dialog:
    """One dialog, seen from our side (RFC 3261 §12.1)."""

    call_id: str
    local_tag: str
    remote_tag: str
    local_address: NameAddr  # From of the requests we send (without tag)
    remote_address: NameAddr  # To of the requests we send (without tag)
    remote_target: SipUri  # the peer's Contact: Request-URI of our requests
    local_contact: NameAddr  # our Contact; its host:port is also our Via sent-by
    route_set: list[NameAddr] = field(default_factory=list)
    local_seq: int = 0
    remote_seq: int | None = None
    state: DialogState = DialogState.CONFIRMED
    transport: str = "UDP"

    @classmethod
    def from_uas(
        cls, request: SipRequest, response: SipResponse, local_contact: NameAddr
    ) -> Dialog:
        """We answered ``request`` (an INVITE) with ``response`` (1xx with To tag, or 2xx)."""
        contact = _single_contact(request)
        local_tag = response.to_addr.tag
        if not local_tag:
            raise SipParseError("a dialog-creating response needs a To tag")
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=request.from_addr.tag or "",
            local_address=_untagged(request.to_addr),
            remote_address=_untagged(request.from_addr),
            remote_target=contact.uri,
            local_contact=local_contact,
            route_set=request.record_route,  # in order (§12.1.1)
            remote_seq=request.cseq.seq,
            local_seq=0,
            state=_state_for(response),
            transport=request.top_via.transport,
        )

    @classmethod
    def from_uac(cls, request: SipRequest, response: SipResponse) -> Dialog:
        """Our ``request`` (an INVITE) got ``response`` (1xx with To tag, or 2xx)."""
        contact = _single_contact(response)
        remote_tag = response.to_addr.tag
        if not remote_tag:
            raise SipParseError("a dialog-creating response needs a To tag")
        return cls(
            call_id=request.call_id,
            local_tag=request.from_addr.tag or "",
            remote_tag=remote_tag,
            local_address=_untagged(request.from_addr),
            remote_address=_untagged(request.to_addr),
            remote_target=contact.uri,
            local_contact=_single_contact(request),
            route_set=list(reversed(response.record_route)),  # reversed (§12.1.2)
            local_seq=request.cseq.seq,
            remote_seq=None,
            state=_state_for(response),
            transport=request.top_via.transport,
        )

    @property
    def id(self) -> DialogId:
        return DialogId(self.call_id, self.local_tag, self.remote_tag)

    # --- requests we send ---------------------------------------------------------------------

    def create_request(
        self,
        method: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        branch: str | None = None,
    ) -> SipRequest:
        """An in-dialog request (§12.2.1.1); every method but ACK and CANCEL takes a new CSeq."""
        if self.state is DialogState.TERMINATED:
            raise RuntimeError("the dialog is terminated")
        if method in ("ACK", "CANCEL"):
            raise ValueError(f"use create_ack or build_cancel for {method}")
        self.local_seq += 1
        return self._request(method, self.local_seq, body, content_type, headers, branch)

    def create_ack(
        self,
        invite_seq: int,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        branch: str | None = None,
    ) -> SipRequest:
        """The ACK for a 2xx to the INVITE with CSeq ``invite_seq`` (§13.2.2.4): a new transaction.

        Keep it: every retransmission of that 2xx is answered with the same ACK.
        """
        return self._request("ACK", invite_seq, body, content_type, (), branch)

    def create_bye(self) -> SipRequest:
        return self.create_request("BYE")

    def create_reinvite(self, sdp: bytes) -> SipRequest:
        return self.create_request("INVITE", body=sdp, content_type="application/sdp")

    def _request(
        self,
        method: str,
        seq: int,
        body: bytes,
        content_type: str | None,
        headers: Iterable[tuple[str, str]],
        branch: str | None,
    ) -> SipRequest:
        request_uri, routes = self._target_and_routes()
        sent_by = self.local_contact.uri
        via = Via(
            sent_by.host,
            sent_by.port,
            self.transport,
            {"branch": branch or new_branch(), "rport": None},
        )
        fields = [
            ("Via", str(via)),
            ("Max-Forwards", "70"),
            *(("Route", str(route)) for route in routes),
            ("From", str(self.local_address.with_tag(self.local_tag))),
            ("To", str(self.remote_address.with_tag(self.remote_tag))),
            ("Call-ID", self.call_id),
            ("CSeq", f"{seq} {method}"),
        ]
        if method in ("INVITE", "UPDATE", "SUBSCRIBE", "REFER", "NOTIFY"):
            fields.append(("Contact", str(self.local_contact)))  # target refresh requests
        fields += headers
        if content_type is not None:
            fields.append(("Content-Type", content_type))
        return SipRequest.create(method, str(request_uri), fields, body)

    def _target_and_routes(self) -> tuple[SipUri, list[NameAddr]]:
        """Loose routing sends to the remote target via the route set; strict routing (§12.2.1.1)
        puts the first route in the Request-URI and the remote target last in the routes."""
        if not self.route_set or "lr" in self.route_set[0].uri.params:
            return self.remote_target, self.route_set
        first = self.route_set[0].uri
        params = {
            k: v
            for k, v in first.params.items()
            if k not in ("method", "maddr", "ttl", "transport", "lr")
        }
        strict_uri = SipUri(
            first.host, first.user, first.port, first.scheme, first.password, params
        )
        return strict_uri, [*self.route_set[1:], NameAddr(self.remote_target)]

    # --- messages we receive ------------------------------------------------------------------

    def receive_request(self, request: SipRequest) -> bool:
        """Check and record an in-dialog request (§12.2.2); False means answer 500.

        ACK and CANCEL reuse their INVITE's number, so only lower numbers are out of order.
        """
        seq = request.cseq.seq
        if self.remote_seq is not None and seq < self.remote_seq:
            logger.info("dialog %s: out-of-order CSeq %d < %d", self.call_id, seq, self.remote_seq)
            return False
        if request.method not in ("ACK", "CANCEL"):
            self.remote_seq = seq
        if request.method in ("INVITE", "UPDATE") and request.headers.values("Contact"):
            self.remote_target = _single_contact(request).uri  # target refresh
        if request.method == "BYE":
            self.state = DialogState.TERMINATED
        return True

    def receive_response(self, response: SipResponse) -> None:
        """Track a response to one of our in-dialog requests or to the creating INVITE."""
        if response.cseq.method == "INVITE" and response.is_success:
            if self.state is DialogState.EARLY:
                # the route set is fixed by the 2xx, which may differ from the 1xx (§12.1.2)
                self.route_set = list(reversed(response.record_route))
            self.state = DialogState.CONFIRMED
            if response.headers.values("Contact"):
                self.remote_target = _single_contact(response).uri
        elif response.cseq.method == "BYE" or response.status in (408, 481):
            self.state = DialogState.TERMINATED  # §12.2.1.2: 481/408 end the dialog

    def response_for(
        self,
        request: SipRequest,
        status: int,
        reason: str | None = None,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> SipResponse:
        """A response to a request in this dialog, with our tag and (for INVITE 2xx) Contact."""
        extra = list(headers)
        if request.method == "INVITE" and 100 < status < 300:
            extra.append(("Contact", str(self.local_contact)))
        return build_response(
            request,
            status,
            reason,
            to_tag=self.local_tag,
            headers=extra,
            body=body,
            content_type=content_type,
        )

    def terminate(self) -> None:
        self.state = DialogState.TERMINATED


def _single_contact(message: SipRequest | SipResponse) -> NameAddr:
    contacts = message.contacts
    if len(contacts) != 1:
        raise SipParseError(f"expected one Contact, found {len(contacts)}")
    return contacts[0]


def _untagged(address: NameAddr) -> NameAddr:
    return NameAddr(
        address.uri, address.display_name, {k: v for k, v in address.params.items() if k != "tag"}
    )


def _state_for(response: SipResponse) -> DialogState:
    return DialogState.CONFIRMED if response.is_success else DialogState.EARLY


def build_cancel(invite: SipRequest) -> SipRequest:
    """CANCEL for a pending INVITE (§9.1): same Request-URI, Call-ID, From, To, CSeq number
    and top Via (so it reaches the same server transaction), and the same Route."""
    fields = [
        ("Via", invite.headers.values("Via")[0]),
        *(("Route", value) for value in invite.headers.values("Route")),
        ("Max-Forwards", "70"),
        ("From", invite.header("From")),
        ("To", invite.header("To")),
        ("Call-ID", invite.call_id),
        ("CSeq", f"{invite.cseq.seq} CANCEL"),
    ]
    return SipRequest.create("CANCEL", invite.uri, fields)


@dataclass(frozen=True)
class RetransmitOutput:
    send: tuple[SipResponse, ...] = ()
    timed_out: bool = False  # no ACK within 64*T1: the TU should end the call with BYE
    deadline: float | None = None


class AnswerRetransmitter:
    """The UAS core's 2xx retransmission (§13.3.1.4): T1, 2*T1... capped at T2, until the ACK.

    It runs whatever the transport, since the 2xx travels end to end through proxies that may
    use UDP.  After 64*T1 without ACK the dialog stays confirmed but the TU should send BYE.
    """

    def __init__(
        self, response: SipResponse, now: float, timers: SipTimers = DEFAULT_TIMERS
    ) -> None:
        if not (response.is_success and response.cseq.method == "INVITE"):
            raise ValueError("only 2xx responses to INVITE are retransmitted by the UAS core")
        self.response = response
        self._timers = timers
        self._interval = timers.t1
        self._next: float | None = now + timers.t1
        self._give_up = now + timers.timeout
        self.acknowledged = False

    @property
    def deadline(self) -> float | None:
        return None if self._next is None else min(self._next, self._give_up)

    def acknowledge(self, ack: SipRequest) -> bool:
        """Stop on the ACK of this 2xx (same Call-ID and CSeq number); True if it matched."""
        if ack.method != "ACK" or ack.call_id != self.response.call_id:
            return False
        if ack.cseq.seq != self.response.cseq.seq:
            return False
        self.acknowledged = True
        self._next = None
        return True

    def on_timer(self, now: float) -> RetransmitOutput:
        if self._next is None:
            return RetransmitOutput()
        if now >= self._give_up:
            self._next = None
            logger.warning(
                "no ACK for 2xx of call %s within %.1f s",
                self.response.call_id,
                self._timers.timeout,
            )
            return RetransmitOutput(timed_out=True)
        if now < self._next:
            return RetransmitOutput(deadline=self.deadline)
        self._interval = min(self._interval * 2, self._timers.t2)
        self._next += self._interval
        return RetransmitOutput(send=(self.response,), deadline=self.deadline)
