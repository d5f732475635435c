"""The SIP user agent as a sans-I/O state machine, in the manner of h11's `Connection`.

`UserAgent` takes datagrams (`receive`), the time (`on_timer`) and the app's decisions
(`ring`, `answer`, `refuse`, `invite`, `hang_up`, `refer`, `register`) and returns an `Output`: the
datagrams to send, the events that happened (agent_events.py) and when to call `on_timer`
next. It owns the transaction tables (transaction.py, timers A to K), the dialogs, the 2xx
retransmission until the ACK, outbound calls (agent_outbound.py) and the registration
(agent_registration.py). It opens no socket, resolves no name and reads no clock: the shell
binds the socket, resolves the trunk, opens the media and decides who may call (`screen`).

Calls in: INVITE (100, then `CallOffered`; the app rings and answers), ACK, BYE either way,
CANCEL, OPTIONS, re-INVITE (hold and resume), UPDATE, keypad digits by SIP INFO, session
timers (RFC 4028: session_timer.py, agent_refresh.py), REFER out with its NOTIFY progress
(agent_transfer.py); refusals with 400 (malformed), 405/501 (not supported), 415, 420, 422,
481, 482, 483, 488, and what `screen` says.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from voice_agent.protocol.sdp import (
    AudioParameters,
    LocalMedia,
    SdpNegotiationError,
    SdpParseError,
    SessionDescription,
    accept_answer,
    create_offer,
)
from voice_agent.protocol.sip.agent_calls import (
    ALLOWED,
    KNOWN_ELSEWHERE,
    ActiveCall,
    AgentConfig,
    Refusal,
    Screen,
    allow_all,
    info_digit,
    is_held,
)
from voice_agent.protocol.sip.agent_events import (
    Address,
    CallAnswered,
    CallEnded,
    CallHeld,
    CallResumed,
    Digit,
    MalformedMessage,
    MediaChanged,
    Output,
)
from voice_agent.protocol.sip.agent_inbound import (
    IncomingCalls,
    negotiate,
    read_offer,
    refuse_too_small,
)
from voice_agent.protocol.sip.agent_outbound import OutgoingCall
from voice_agent.protocol.sip.agent_refresh import Refreshes
from voice_agent.protocol.sip.agent_registration import Registration
from voice_agent.protocol.sip.agent_transactions import ServerEntry, TransactionLayer, due
from voice_agent.protocol.sip.agent_transfer import Transfers
from voice_agent.protocol.sip.dialog import AnswerRetransmitter, DialogId, DialogState
from voice_agent.protocol.sip.malformed import bad_request_response
from voice_agent.protocol.sip.message import (
    SipLimits,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    build_response,
    is_keepalive,
    new_tag,
    parse_message,
)
from voice_agent.protocol.sip.session_timer import (
    TIMER,
    Agreement,
    SessionTimer,
    TooSmall,
    agree_to_request,
    allows_update,
)
from voice_agent.protocol.sip.transaction import TransactionState, transaction_key

logger = logging.getLogger(__name__)

__all__ = ["UserAgent"]


class UserAgent:
    def __init__(self, config: AgentConfig, screen: Screen = allow_all) -> None:
        self.config = config
        self._screen_access = screen
        self._limits = SipLimits(max_message_size=config.max_message_size)
        self._wire = TransactionLayer(config)
        self._incoming = IncomingCalls(self._wire, config)
        self._calls: dict[str, ActiveCall] = {}
        self._outgoing: dict[str, OutgoingCall] = {}
        self.registration: Registration | None = None
        self._refreshes = Refreshes(self._wire, config, self._bye, self._media_changed)
        self._transfers = Transfers(self._wire, config, self._transferred)

    # --- what the shell may read ---------------------------------------------------------------

    def call(self, call_id: str) -> ActiveCall | None:
        return self._calls.get(call_id)

    @property
    def call_ids(self) -> list[str]:
        """Every call not over yet: offered, ringing out, or up."""
        return [*self._incoming.call_ids, *self._outgoing, *self._calls]

    # --- input ---------------------------------------------------------------------------------

    def receive(self, data: bytes, source: Address, now: float) -> Output:
        """One datagram from `source` (the shell has applied its rate limit)."""
        if is_keepalive(data):
            return self._flush()
        try:
            message = parse_message(data, self._limits)
            if isinstance(message, SipResponse):
                self._on_response(message, now)
            else:
                self._on_request(message, source, now)
        except (SipParseError, ValueError) as error:  # a header read lazily may fail too
            self._malformed(data, source, str(error))
        return self._flush()

    def on_timer(self, now: float) -> Output:
        for key in self._wire.on_timer(now):
            self._incoming.forget(key)
        for call in list(self._calls.values()):
            self._retransmit_answer(call, now)
            if call.call_id in self._calls:
                self._refreshes.on_timer(call, now)
        for outgoing in list(self._outgoing.values()):
            outgoing.on_timer(now)
        if self.registration is not None:
            self.registration.on_timer(now)
        self._transfers.on_timer(now)
        return self._flush()

    # --- the app's decisions -------------------------------------------------------------------

    def ring(self, call_id: str, local: LocalMedia, now: float) -> Output:
        """Agree on the media for an offered call (488 when nothing in common) and send 180;
        `CallRinging` says what was agreed, for the shell to open the media."""
        self._incoming.ring(call_id, local, now)
        return self._flush()

    def answer(self, call_id: str, now: float) -> Output:
        """Answer a ringing call with 200; it is resent until the caller's ACK."""
        call = self._incoming.answer(call_id, now)
        if call is not None:
            self._calls[call_id] = call
        return self._flush()

    def refuse(
        self, call_id: str, status: int, why: str, now: float, retry_after_s: int | None = None
    ) -> Output:
        """Refuse an offered call (503 no line or no media port, 488...); `retry_after_s`
        goes in a Retry-After header."""
        headers = [] if retry_after_s is None else [("Retry-After", str(retry_after_s))]
        self._incoming.refuse(call_id, status, why, now, headers)
        return self._flush()

    def invite(
        self, target: SipUri, destination: Address, user: str, local: LocalMedia, now: float
    ) -> tuple[str, Output]:
        """Call `target` at `destination` (resolved by the shell), offering `local`: the new
        call's Call-ID; `CallAnswered` or `CallEnded` (with the status) follows."""
        outgoing = OutgoingCall(
            self._wire, self.config, target, destination, user, local, self._connected
        )
        self._outgoing[outgoing.call_id] = outgoing
        outgoing.start(now)
        return outgoing.call_id, self._flush()

    def hang_up(self, call_id: str, reason: str, now: float) -> Output:
        """End a call from our side: BYE when up, CANCEL when ringing out, 480 when offered."""
        self._incoming.refuse(call_id, 480, reason, now)
        outgoing = self._outgoing.get(call_id)
        if outgoing is not None:
            outgoing.cancel(now, reason)
        call = self._calls.get(call_id)
        if call is not None:
            self._bye(call, reason, now)
        return self._flush()

    def refer(
        self, call_id: str, target_uri: str, headers: Sequence[tuple[str, str]], now: float
    ) -> Output:
        """Transfer a call that is up to `target_uri` (REFER; `headers` go into the Refer-To
        URI and onto the REFER): `TransferProgress` events follow; on success we BYE our leg.
        ValueError (or SipParseError, one) for no such call, a bad target or header."""
        call = self._calls.get(call_id)
        if call is None:
            raise ValueError(f"no call {call_id} is up to transfer")
        self._transfers.start(call, target_uri, headers, now)
        return self._flush()

    def register(self, destination: Address, now: float) -> Output:
        """Register with the configured trunk at `destination` and keep it refreshed."""
        trunk = self.config.trunk
        if trunk is None:
            raise ValueError("no trunk is configured to register with")
        if self.registration is None:
            self.registration = Registration(self._wire, self.config, trunk, destination)
        self.registration.destination = destination
        self.registration.start(now)
        return self._flush()

    def unregister(self, now: float) -> Output:
        if self.registration is not None:
            self.registration.stop(now)
        return self._flush()

    # --- plumbing ------------------------------------------------------------------------------

    def _flush(self) -> Output:
        self._outgoing = {k: o for k, o in self._outgoing.items() if not o.finished}
        deadlines = self._wire.deadlines()
        deadlines += [c.retransmitter.deadline for c in self._calls.values() if c.retransmitter]
        deadlines += [c.session_timer.deadline for c in self._calls.values() if c.session_timer]
        deadlines += [o.deadline for o in self._outgoing.values()]
        if self.registration is not None:
            deadlines.append(self.registration.due)
        deadlines += self._transfers.deadlines
        return self._wire.flush(min((d for d in deadlines if d is not None), default=None))

    def _malformed(self, data: bytes, source: Address, error: str) -> None:
        self._wire.emit(MalformedMessage(source, error))
        response = bad_request_response(data, error, self.config.host)
        if response is None:
            logger.info("dropped an unreadable message from %s:%d: %s", *source, error)
            return
        logger.info("refused a malformed request from %s:%d: 400 (%s)", *source, error)
        self._wire.send_bytes(response, source)

    # --- requests we receive -------------------------------------------------------------------

    def _on_request(self, request: SipRequest, source: Address, now: float) -> None:
        if request.method == "ACK":
            self._on_ack(request, now)
            return
        entry = self._wire.open(request, source, now)
        if entry is None:
            return  # a retransmission, answered by its transaction
        if request.method == "CANCEL":
            self._incoming.cancel(request, entry, now)
            return
        in_dialog = request.to_addr.tag is not None
        try:
            refusal = self._screen(request, source, in_dialog)
            if refusal is not None:
                self._wire.respond(entry, refusal[0], refusal[1], now)
                return
            self._dispatch(request, entry, in_dialog, now)
        except (SipParseError, ValueError) as error:  # a header read only now (Contact...)
            self._wire.emit(MalformedMessage(source, str(error)))
            if entry.transaction.state in (TransactionState.TRYING, TransactionState.PROCEEDING):
                warning = [("Warning", f'399 {self.config.host} "{str(error)[:200]}"')]
                response = build_response(request, 400, to_tag=new_tag(), headers=warning)
                self._wire.respond(entry, response, str(error), now)

    def _screen(self, request: SipRequest, source: Address, in_dialog: bool) -> Refusal | None:
        """A response that refuses the request before it is served, and why; None to serve."""
        if request.max_forwards == 0 and request.method != "OPTIONS":
            return build_response(request, 483, to_tag=new_tag()), "Max-Forwards reached 0"
        required = [v for v in request.headers.values("Require") if v and v.lower() != TIMER]
        if required:
            unsupported = [("Unsupported", ", ".join(required))]
            response = build_response(request, 420, to_tag=new_tag(), headers=unsupported)
            return response, f"requires unsupported extensions {', '.join(required)}"
        if in_dialog:
            return None  # dialog tags are unguessable: the dialog itself is the credential
        return self._screen_access(request, source)

    def _dispatch(
        self, request: SipRequest, entry: ServerEntry, in_dialog: bool, now: float
    ) -> None:
        method = request.method
        if method == "INVITE":
            if in_dialog:
                self._on_reinvite(request, entry, now)
            else:
                self._on_invite(request, entry, now)
        elif method == "BYE":
            self._on_bye(request, entry, now)
        elif method == "OPTIONS":
            self._on_options(request, entry, in_dialog, now)
        elif method == "INFO":
            self._on_info(request, entry, now)
        elif method == "UPDATE":
            self._on_update(request, entry, now)
        elif method == "NOTIFY":
            self._on_notify(request, entry, in_dialog, now)
        elif method in KNOWN_ELSEWHERE:
            allow = [("Allow", ", ".join(ALLOWED))]
            response = build_response(request, 405, to_tag=new_tag(), headers=allow)
            self._wire.respond(entry, response, f"{method} is not served here", now)
        else:
            response = build_response(request, 501, to_tag=new_tag())
            self._wire.respond(entry, response, f"unknown method {method}", now)

    def _on_options(
        self, request: SipRequest, entry: ServerEntry, in_dialog: bool, now: float
    ) -> None:
        """A probe (a proxy's dispatcher, a trunk's keepalive): 503 when we take no new call,
        so whoever probes sends calls elsewhere; within a call it is only a keepalive."""
        if not in_dialog and not self.config.accepting():
            self._wire.respond(entry, self._unavailable(request), "not taking calls", now)
            return
        self._wire.respond(entry, self._capabilities(request), None, now)

    def _unavailable(self, request: SipRequest) -> SipResponse:
        retry = [("Retry-After", str(self.config.retry_after_s))]
        return build_response(request, 503, to_tag=new_tag(), headers=retry)

    def _capabilities(self, request: SipRequest) -> SipResponse:
        return build_response(
            request,
            200,
            to_tag=None if request.to_addr.tag else new_tag(),
            headers=[
                ("Allow", ", ".join(ALLOWED)),
                ("Accept", "application/sdp"),
                ("Supported", TIMER),
                ("Server", self.config.user_agent),
            ],
        )

    def _on_invite(self, invite: SipRequest, entry: ServerEntry, now: float) -> None:
        if invite.call_id in self.call_ids:  # the same call by another path (RFC 3261 §8.2.2.2)
            response = build_response(invite, 482, to_tag=new_tag())
            self._wire.respond(entry, response, "a second INVITE for a call in progress", now)
            return
        self._incoming.offer(invite, entry, now)

    # --- requests within a call ------------------------------------------------------------------

    def _call_for(self, request: SipRequest, entry: ServerEntry, now: float) -> ActiveCall | None:
        call = self._calls.get(request.call_id)
        if call is None or call.dialog.id != DialogId.of_incoming_request(request):
            self._wire.respond(entry, build_response(request, 481), "no such call", now)
            return None
        if not call.dialog.receive_request(request):
            self._wire.respond(entry, build_response(request, 500), "CSeq out of order", now)
            return None
        return call

    def _on_ack(self, ack: SipRequest, now: float) -> None:
        if self._wire.absorb_ack(ack, now):
            return
        call = self._calls.get(ack.call_id)
        if call is None or call.retransmitter is None:
            return
        if call.dialog.id != DialogId.of_incoming_request(ack):
            return
        if not call.retransmitter.acknowledge(ack):
            return
        call.retransmitter = None
        if call.offer is not None and ack.body:
            self._accept_late_answer(call, ack, now)

    def _accept_late_answer(self, call: ActiveCall, ack: SipRequest, now: float) -> None:
        assert call.offer is not None
        try:
            params = accept_answer(call.offer, SessionDescription.parse(ack.body))
        except (SdpParseError, SdpNegotiationError) as error:
            logger.info("call %s: unusable answer in the ACK: %s", call.call_id, error)
            self._bye(call, f"unusable SDP answer in the ACK: {error}", now)
            return
        call.offer = None
        self._media_changed(call, params)

    def _on_bye(self, bye: SipRequest, entry: ServerEntry, now: float) -> None:
        call = self._call_for(bye, entry, now)
        if call is None:
            return
        self._wire.respond(entry, call.dialog.response_for(bye, 200), None, now)
        self._end(call, "the caller hung up")

    def _on_reinvite(self, invite: SipRequest, entry: ServerEntry, now: float) -> None:
        call = self._call_for(invite, entry, now)
        if call is None:
            return
        session = self._session_for(call, invite, entry, now)
        if isinstance(session, TooSmall):
            return
        readable, offer = read_offer(self._wire, invite, entry, None, now)
        if not readable:
            return
        try:
            answer, params = self._answer_offer(call, offer)
        except SdpNegotiationError as error:
            response = call.dialog.response_for(invite, 488)
            self._wire.respond(entry, response, f"re-INVITE: {error}", now)
            return
        body = answer if answer is not None else create_offer(call.local)
        response = call.dialog.response_for(
            invite,
            200,
            body=bytes(body),
            content_type="application/sdp",
            headers=self._session_headers(session),
        )
        call.retransmitter = AnswerRetransmitter(response, now, self.config.timers)
        self._wire.respond(entry, response, None, now)
        self._session_refreshed(call, invite, session, now)
        if answer is None:
            call.offer = body  # the answer comes in the ACK
            return
        if params != call.params:
            logger.info("call %s: re-INVITE, media now %s", call.call_id, params.direction.value)
            self._media_changed(call, params)

    def _on_update(self, update: SipRequest, entry: ServerEntry, now: float) -> None:
        """UPDATE (RFC 3311): a session refresh, with or without a new offer."""
        call = self._call_for(update, entry, now)
        if call is None:
            return
        session = self._session_for(call, update, entry, now)
        if isinstance(session, TooSmall):
            return
        readable, offer = read_offer(self._wire, update, entry, None, now)
        if not readable:
            return
        answer, params = None, call.params
        if offer is not None:
            try:
                answer, params = self._answer_offer(call, offer)
            except SdpNegotiationError as error:
                response = call.dialog.response_for(update, 488)
                self._wire.respond(entry, response, f"UPDATE: {error}", now)
                return
        headers = [("Contact", str(call.dialog.local_contact)), *self._session_headers(session)]
        response = call.dialog.response_for(
            update,
            200,
            body=bytes(answer) if answer is not None else b"",
            content_type="application/sdp" if answer is not None else None,
            headers=headers,
        )
        self._wire.respond(entry, response, None, now)
        self._session_refreshed(call, update, session, now)
        if params != call.params:
            self._media_changed(call, params)

    def _answer_offer(
        self, call: ActiveCall, offer: SessionDescription | None
    ) -> tuple[SessionDescription | None, AudioParameters]:
        """Our answer to an offer within the call (None: no offer, ours goes in the 200); the
        o= version grows only when the SDP we send changes (RFC 3264 §8)."""
        answer, params = negotiate(offer, call.local)
        body = bytes(answer if answer is not None else create_offer(call.local))
        if body != call.sdp:
            call.local = replace(call.local, session_version=call.local.session_version + 1)
            answer, params = negotiate(offer, call.local)
            body = bytes(answer if answer is not None else create_offer(call.local))
        call.sdp = body
        return answer, params

    # --- session timers (RFC 4028) ----------------------------------------------------------------

    def _session_for(
        self, call: ActiveCall, request: SipRequest, entry: ServerEntry, now: float
    ) -> Agreement | TooSmall | None:
        """The session timer a re-INVITE or UPDATE asks for; TooSmall when refused with 422."""
        session = agree_to_request(request, self.config.session_expires_s, self.config.min_se_s)
        if isinstance(session, TooSmall):
            refuse_too_small(self._wire, request, entry, session, None, now)
        return session

    @staticmethod
    def _session_headers(session: Agreement | None) -> list[tuple[str, str]]:
        supported = [("Supported", TIMER)]
        return supported if session is None else supported + session.response_headers()

    @staticmethod
    def _session_refreshed(
        call: ActiveCall, request: SipRequest, session: Agreement | None, now: float
    ) -> None:
        if session is None:
            call.session_timer = None
        elif call.session_timer is None:
            call.session_timer = SessionTimer(session, allows_update(request), now)
        else:
            call.session_timer.restart(session, now)

    def _media_changed(self, call: ActiveCall, params: AudioParameters) -> None:
        call.params = params
        self._wire.emit(MediaChanged(call.call_id, params))
        held = is_held(params)
        if held != call.held:
            call.held = held
            self._wire.emit(CallHeld(call.call_id) if held else CallResumed(call.call_id))

    def _on_info(self, info: SipRequest, entry: ServerEntry, now: float) -> None:
        if not info.to_addr.tag:
            response = build_response(info, 481, to_tag=new_tag())
            self._wire.respond(entry, response, "INFO outside a call", now)
            return
        call = self._call_for(info, entry, now)
        if call is None:
            return
        digit = info_digit(info)
        if digit is None:
            response = call.dialog.response_for(info, 415)
            self._wire.respond(entry, response, "INFO without a DTMF body", now)
            return
        self._wire.respond(entry, call.dialog.response_for(info, 200), None, now)
        self._wire.emit(Digit(call.call_id, digit))

    def _on_notify(
        self, notify: SipRequest, entry: ServerEntry, in_dialog: bool, now: float
    ) -> None:
        """We subscribe to nothing but the progress of our REFERs, which come within the call."""
        if not in_dialog:
            response = build_response(notify, 481, to_tag=new_tag())
            self._wire.respond(entry, response, "NOTIFY outside a call", now)
            return
        call = self._call_for(notify, entry, now)
        if call is not None:
            self._transfers.on_notify(call, notify, entry, now)

    # --- ending calls ----------------------------------------------------------------------------

    def _end(self, call: ActiveCall, reason: str) -> None:
        """The call is over (the peer ended it, or we did): forget it, tell the shell."""
        if self._calls.pop(call.call_id, None) is None:
            return
        call.dialog.terminate()
        self._transfers.forget(call.call_id)
        logger.info("call %s ended: %s", call.call_id, reason)
        self._wire.emit(CallEnded(call.call_id, reason))

    def _bye(self, call: ActiveCall, reason: str, now: float) -> None:
        if call.dialog.state is not DialogState.TERMINATED:
            bye = call.dialog.create_bye()
            self._wire.request(bye, call.peer, _log_bye_answer, _ignore_timeout, now)
        self._end(call, reason)

    def _transferred(self, call_id: str, now: float) -> None:
        """The caller talks to the transfer target now: end our leg (RFC 5589 §6)."""
        call = self._calls.get(call_id)
        if call is not None:
            self._bye(call, "transferred", now)

    def _retransmit_answer(self, call: ActiveCall, now: float) -> None:
        retransmitter = call.retransmitter
        if retransmitter is None or not due(retransmitter.deadline, now):
            return
        output = retransmitter.on_timer(now)
        for response in output.send:
            self._wire.send(response, call.peer)
        if output.timed_out:
            call.retransmitter = None
            self._bye(call, "the caller never acknowledged the answer (no ACK)", now)

    # --- responses -------------------------------------------------------------------------------

    def _on_response(self, response: SipResponse, now: float) -> None:
        if not self._wire.deliver(response, now):
            self._stray_response(response)

    def _stray_response(self, response: SipResponse) -> None:
        """A copy of a 2xx to our INVITE: our ACK was lost, send it again."""
        if response.cseq.method != "INVITE" or not response.is_success:
            return
        call = self._calls.get(response.call_id)
        ours = call is not None and call.dialog.id == DialogId.of_incoming_response(response)
        if call is not None and ours and call.ack is not None:
            self._wire.send(call.ack, call.peer)

    def _connected(self, call: ActiveCall) -> None:
        """An outbound call was answered (the ACK is sent): it is up."""
        outgoing = self._outgoing.pop(call.call_id, None)
        self._calls[call.call_id] = call
        # copies of the 2xx reach the INVITE transaction (Accepted): each gets the ACK again
        entry = self._wire.client.get(transaction_key(outgoing.invite)) if outgoing else None
        if entry is not None:
            entry.on_response = lambda response, at: self._stray_response(response)
        self._wire.emit(CallAnswered(call.call_id, call.params, call.peer, outbound=True))


def _log_bye_answer(response: SipResponse, now: float) -> None:
    if response.status >= 300:
        logger.info(
            "call %s: BYE answered %d %s", response.call_id, response.status, response.reason
        )


def _ignore_timeout(now: float) -> None:
    """A BYE nobody answered: the call is over for us whatever the answer."""
