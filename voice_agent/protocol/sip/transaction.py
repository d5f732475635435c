"""RFC 3261 §17 transactions as state machines, with the RFC 6026 Accepted state.

Every method takes the current time and returns a ``TransactionOutput``: the
messages to put on the wire, the messages to hand up to the transaction user
(TU), whether the transaction failed by timeout, and the next deadline at which
``on_timer(now)`` must be called.  Nothing here sleeps or owns a socket.

Retransmission of 2xx responses to INVITE and their ACKs is end-to-end, so it is
the TU's job (``dialog.AnswerRetransmitter``); the INVITE transactions only pass
those messages through while in the Accepted state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from voice_agent.protocol.sip.message import (
    BRANCH_COOKIE,
    SipMessage,
    SipRequest,
    SipResponse,
    build_response,
)
from voice_agent.protocol.sip.timers import DEFAULT_TIMERS, SipTimers

logger = logging.getLogger(__name__)

TIMER_D = 32.0  # RFC 3261 §17.1.1.2: at least 32 s on unreliable transports


class TransactionState(Enum):
    CALLING = "calling"
    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    ACCEPTED = "accepted"
    TERMINATED = "terminated"


class TransactionError(RuntimeError):
    """The TU asked for something the transaction's state does not allow."""


@dataclass(frozen=True)
class TransactionOutput:
    send: tuple[SipMessage, ...] = ()
    deliver: tuple[SipMessage, ...] = ()  # to the TU
    timed_out: bool = False  # timer B, F or H fired: the TU treats it as a 408
    deadline: float | None = None  # call on_timer(now) at or after this time


TransactionKey = tuple[str, str, str]


def transaction_key(message: SipMessage) -> TransactionKey:
    """(branch, sent-by, method) per RFC 3261 §17.1.3 and §17.2.3; ACK matches its INVITE.

    Requests and the responses to them map to the same key, so one table serves both
    sides.  Branches without the RFC 3261 cookie fall back to Call-ID, From tag and CSeq.
    """
    via = message.top_via
    cseq = message.cseq
    method = message.method if isinstance(message, SipRequest) else cseq.method
    if method == "ACK":
        method = "INVITE"
    branch = via.branch or ""
    if not branch.startswith(BRANCH_COOKIE):
        branch = f"{message.call_id}|{message.from_addr.tag}|{cseq.seq}|{branch}"
    return branch, via.sent_by.lower(), method


def cancelled_invite_key(cancel: SipRequest) -> TransactionKey:
    """The key of the INVITE transaction a CANCEL refers to (RFC 3261 §9.2)."""
    branch, sent_by, _ = transaction_key(cancel)
    return branch, sent_by, "INVITE"


class _Transaction:
    def __init__(self, request: SipRequest, *, reliable: bool, timers: SipTimers) -> None:
        self.request = request
        self.reliable = reliable
        self.timers = timers
        self.state = TransactionState.TERMINATED  # set by the subclass
        self.key = transaction_key(request)
        self._due: dict[str, float] = {}  # timer name -> time it fires
        self._interval: dict[str, float] = {}  # current interval of the retransmit timers

    @property
    def deadline(self) -> float | None:
        return min(self._due.values(), default=None)

    @property
    def terminated(self) -> bool:
        return self.state is TransactionState.TERMINATED

    def on_timer(self, now: float) -> TransactionOutput:
        """Fire every timer due by ``now``, in the order they fell due."""
        send: list[SipMessage] = []
        timed_out = False
        while self._due and not self.terminated:
            name, due = min(self._due.items(), key=lambda item: item[1])
            if due > now:
                break
            del self._due[name]
            message, failed = self._fire(name, due)
            send += [message] if message is not None else []
            timed_out = timed_out or failed
        return TransactionOutput(send=tuple(send), timed_out=timed_out, deadline=self.deadline)

    def _fire(self, name: str, due: float) -> tuple[SipMessage | None, bool]:
        raise NotImplementedError

    def _output(
        self, send: tuple[SipMessage, ...] = (), deliver: tuple[SipMessage, ...] = ()
    ) -> TransactionOutput:
        return TransactionOutput(send=send, deliver=deliver, deadline=self.deadline)

    def _start_timer(self, name: str, at: float, interval: float | None = None) -> None:
        self._due[name] = at
        if interval is not None:
            self._interval[name] = interval

    def _stop_timers(self, *names: str) -> None:
        for name in names:
            self._due.pop(name, None)

    def _enter(self, state: TransactionState) -> None:
        logger.debug("transaction %s: %s -> %s", self.key[0], self.state.value, state.value)
        self.state = state
        if state is TransactionState.TERMINATED:
            self._due.clear()

    def _finish(self, state: TransactionState, timer: str, at: float, wait: float) -> None:
        """Enter a state that lingers ``wait`` seconds (timers D, I, J, K); 0 ends at once."""
        if wait > 0:
            self._enter(state)
            self._start_timer(timer, at + wait)
        else:
            self._enter(TransactionState.TERMINATED)

    def _retransmit_interval(self, name: str, cap: float | None) -> float:
        """Double the interval of a retransmit timer, up to ``cap`` when given."""
        doubled = self._interval[name] * 2
        self._interval[name] = min(doubled, cap) if cap is not None else doubled
        return self._interval[name]


class InviteClientTransaction(_Transaction):
    """RFC 3261 §17.1.1 with RFC 6026 §8.4: Calling, Proceeding, Completed, Accepted."""

    def __init__(
        self, request: SipRequest, *, reliable: bool = False, timers: SipTimers = DEFAULT_TIMERS
    ) -> None:
        super().__init__(request, reliable=reliable, timers=timers)
        self._ack: SipRequest | None = None

    def start(self, now: float) -> TransactionOutput:
        self._enter(TransactionState.CALLING)
        if not self.reliable:
            self._start_timer("A", now + self.timers.t1, self.timers.t1)
        self._start_timer("B", now + self.timers.timeout)
        return self._output(send=(self.request,))

    def receive(self, response: SipResponse, now: float) -> TransactionOutput:
        state = self.state
        if state in (TransactionState.CALLING, TransactionState.PROCEEDING):
            self._stop_timers("A", "B")
            if response.is_provisional:
                self._enter(TransactionState.PROCEEDING)
            elif response.is_success:
                self._enter(TransactionState.ACCEPTED)
                self._start_timer("M", now + self.timers.timeout)
            else:
                self._ack = build_failure_ack(self.request, response)
                self._finish(
                    TransactionState.COMPLETED, "D", now, 0.0 if self.reliable else TIMER_D
                )
                return self._output(send=(self._ack,), deliver=(response,))
            return self._output(deliver=(response,))
        if state is TransactionState.ACCEPTED and response.is_success:
            return self._output(deliver=(response,))  # the TU acknowledges each 2xx copy
        if state is TransactionState.COMPLETED and response.status >= 300 and self._ack:
            return self._output(send=(self._ack,))  # our ACK was lost: send it again
        return self._output()

    def _fire(self, name: str, due: float) -> tuple[SipMessage | None, bool]:
        if name == "A":
            self._start_timer("A", due + self._retransmit_interval("A", cap=None))
            return self.request, False
        self._enter(TransactionState.TERMINATED)
        return None, name == "B"


class NonInviteClientTransaction(_Transaction):
    """RFC 3261 §17.1.2: Trying, Proceeding, Completed."""

    def __init__(
        self, request: SipRequest, *, reliable: bool = False, timers: SipTimers = DEFAULT_TIMERS
    ) -> None:
        if request.method in ("INVITE", "ACK"):
            raise TransactionError(f"{request.method} has no non-INVITE client transaction")
        super().__init__(request, reliable=reliable, timers=timers)

    def start(self, now: float) -> TransactionOutput:
        self._enter(TransactionState.TRYING)
        if not self.reliable:
            self._start_timer("E", now + self.timers.t1, self.timers.t1)
        self._start_timer("F", now + self.timers.timeout)
        return self._output(send=(self.request,))

    def receive(self, response: SipResponse, now: float) -> TransactionOutput:
        if self.state not in (TransactionState.TRYING, TransactionState.PROCEEDING):
            return self._output()  # retransmitted final responses are absorbed
        if response.is_provisional:
            self._enter(TransactionState.PROCEEDING)
        else:
            self._stop_timers("E", "F")
            wait = 0.0 if self.reliable else self.timers.t4
            self._finish(TransactionState.COMPLETED, "K", now, wait)
        return self._output(deliver=(response,))

    def _fire(self, name: str, due: float) -> tuple[SipMessage | None, bool]:
        if name == "E":
            if self.state is TransactionState.PROCEEDING:
                self._interval["E"] = self.timers.t2
            else:
                self._retransmit_interval("E", cap=self.timers.t2)
            self._start_timer("E", due + self._interval["E"])
            return self.request, False
        self._enter(TransactionState.TERMINATED)
        return None, name == "F"


class InviteServerTransaction(_Transaction):
    """RFC 3261 §17.2.1 with RFC 6026 §8.7: Proceeding, Completed, Confirmed, Accepted."""

    def __init__(
        self, request: SipRequest, *, reliable: bool = False, timers: SipTimers = DEFAULT_TIMERS
    ) -> None:
        if request.method != "INVITE":
            raise TransactionError(f"{request.method} is not an INVITE")
        super().__init__(request, reliable=reliable, timers=timers)
        self._last_response: SipResponse | None = None

    def start(self, now: float) -> TransactionOutput:
        """Enter Proceeding and answer 100 Trying at once (the TU may take longer than 200 ms)."""
        self._enter(TransactionState.PROCEEDING)
        self._last_response = build_response(self.request, 100)
        return self._output(send=(self._last_response,))

    def receive(self, request: SipRequest, now: float) -> TransactionOutput:
        """A retransmitted INVITE, or an ACK."""
        state = self.state
        if request.method == "ACK":
            if state is TransactionState.COMPLETED:
                self._stop_timers("G", "H")
                wait = 0.0 if self.reliable else self.timers.t4
                self._finish(TransactionState.CONFIRMED, "I", now, wait)
            elif state is TransactionState.ACCEPTED:
                return self._output(deliver=(request,))
            return self._output()
        if (
            state in (TransactionState.PROCEEDING, TransactionState.COMPLETED)
            and self._last_response
        ):
            return self._output(send=(self._last_response,))
        return self._output()  # Accepted, Confirmed: absorb

    def respond(self, response: SipResponse, now: float) -> TransactionOutput:
        state = self.state
        if state is TransactionState.ACCEPTED and response.is_success:
            return self._output(send=(response,))  # the TU's 2xx retransmissions pass through
        if state is not TransactionState.PROCEEDING:
            raise TransactionError(f"cannot send {response.status} in state {state.value}")
        self._last_response = response
        if response.is_success:
            self._enter(TransactionState.ACCEPTED)
            self._start_timer("L", now + self.timers.timeout)
        elif not response.is_provisional:
            self._enter(TransactionState.COMPLETED)
            if not self.reliable:
                self._start_timer("G", now + self.timers.t1, self.timers.t1)
            self._start_timer("H", now + self.timers.timeout)
        return self._output(send=(response,))

    def _fire(self, name: str, due: float) -> tuple[SipMessage | None, bool]:
        if name == "G":
            self._start_timer("G", due + self._retransmit_interval("G", cap=self.timers.t2))
            return self._last_response, False
        self._enter(TransactionState.TERMINATED)
        return None, name == "H"


class NonInviteServerTransaction(_Transaction):
    """RFC 3261 §17.2.2: Trying, Proceeding, Completed."""

    def __init__(
        self, request: SipRequest, *, reliable: bool = False, timers: SipTimers = DEFAULT_TIMERS
    ) -> None:
        if request.method in ("INVITE", "ACK"):
            raise TransactionError(f"{request.method} has no non-INVITE server transaction")
        super().__init__(request, reliable=reliable, timers=timers)
        self._last_response: SipResponse | None = None

    def start(self, now: float) -> TransactionOutput:
        self._enter(TransactionState.TRYING)
        return self._output()

    def receive(self, request: SipRequest, now: float) -> TransactionOutput:
        """A retransmission: answer it with the last response, if there is one yet."""
        if self._last_response is not None and not self.terminated:
            return self._output(send=(self._last_response,))
        return self._output()

    def respond(self, response: SipResponse, now: float) -> TransactionOutput:
        if self.state not in (TransactionState.TRYING, TransactionState.PROCEEDING):
            raise TransactionError(f"cannot send {response.status} in state {self.state.value}")
        self._last_response = response
        if response.is_provisional:
            self._enter(TransactionState.PROCEEDING)
        else:
            wait = 0.0 if self.reliable else self.timers.timeout
            self._finish(TransactionState.COMPLETED, "J", now, wait)
        return self._output(send=(response,))

    def _fire(self, name: str, due: float) -> tuple[SipMessage | None, bool]:
        self._enter(TransactionState.TERMINATED)  # timer J
        return None, False


ClientTransaction = InviteClientTransaction | NonInviteClientTransaction
ServerTransaction = InviteServerTransaction | NonInviteServerTransaction


def client_transaction(
    request: SipRequest, *, reliable: bool = False, timers: SipTimers = DEFAULT_TIMERS
) -> ClientTransaction:
    if request.method == "INVITE":
        return InviteClientTransaction(request, reliable=reliable, timers=timers)
    return NonInviteClientTransaction(request, reliable=reliable, timers=timers)


def server_transaction(
    request: SipRequest, *, reliable: bool = False, timers: SipTimers = DEFAULT_TIMERS
) -> ServerTransaction:
    if request.method == "INVITE":
        return InviteServerTransaction(request, reliable=reliable, timers=timers)
    return NonInviteServerTransaction(request, reliable=reliable, timers=timers)


def build_failure_ack(invite: SipRequest, response: SipResponse) -> SipRequest:
    """The ACK a client transaction sends for a 300-699 to INVITE (RFC 3261 §17.1.1.3)."""
    fields = [
        ("Via", invite.headers.values("Via")[0]),
        *(("Route", value) for value in invite.headers.values("Route")),
        ("Max-Forwards", "70"),
        ("From", invite.header("From")),
        ("To", response.header("To")),
        ("Call-ID", invite.call_id),
        ("CSeq", f"{invite.cseq.seq} ACK"),
    ]
    return SipRequest.create("ACK", invite.uri, fields)
