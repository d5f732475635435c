"""One INVITE on its way out: digest authentication, ringing, answer or failure, CANCEL.

Driven by the user agent (agent.py): `start` sends the INVITE, responses come in through the
client transaction, `on_timer` cancels an INVITE nobody answered in time. The outcome is an
`ActiveCall` handed to `on_connected`, or a `CallEnded` event with the final status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from voice_agent.protocol.sdp import (
    LocalMedia,
    SdpNegotiationError,
    SdpParseError,
    SessionDescription,
    accept_answer,
    create_offer,
)
from voice_agent.protocol.sip.agent_calls import ALLOWED, ActiveCall, AgentConfig, Wire, next_hop
from voice_agent.protocol.sip.agent_events import Address, CallEnded
from voice_agent.protocol.sip.auth import AuthError, DigestClient
from voice_agent.protocol.sip.dialog import Dialog, build_cancel
from voice_agent.protocol.sip.message import (
    NameAddr,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    Via,
    new_branch,
    new_call_id,
    new_tag,
)
from voice_agent.protocol.sip.session_timer import (
    Agreement,
    SessionExpires,
    SessionTimer,
    agree_to_response,
    allows_update,
    read_min_se,
    request_headers,
)

logger = logging.getLogger(__name__)


class OutgoingCall:
    def __init__(
        self,
        wire: Wire,
        config: AgentConfig,
        target: SipUri,
        destination: Address,
        user: str,
        local: LocalMedia,
        on_connected: Callable[[ActiveCall], None],
    ) -> None:
        self._wire = wire
        self._config = config
        self._target = target
        self._destination = destination
        self._local = local
        self._on_connected = on_connected
        self._offer = create_offer(local)
        trunk = config.trunk
        self._digest = DigestClient(trunk.username, trunk.password) if trunk else None
        self._authenticated = False
        self._interval_raised = False  # after a 422, once
        self._no_answer_at: float | None = None
        self._give_up_at: float | None = None  # cancelled: the final response is due by then
        self.invite = self._first_invite(user)
        self.finished = False
        """Answered, refused or failed: the user agent forgets it."""

    @property
    def call_id(self) -> str:
        return self.invite.call_id

    @property
    def deadline(self) -> float | None:
        return self._no_answer_at if self._no_answer_at is not None else self._give_up_at

    def start(self, now: float) -> None:
        self._no_answer_at = now + self._config.no_answer_timeout_s
        self._send(now)

    def on_timer(self, now: float) -> None:
        if self._no_answer_at is not None and now >= self._no_answer_at:
            self.cancel(now, f"no answer in {self._config.no_answer_timeout_s:g} s")
        elif self._give_up_at is not None and now >= self._give_up_at:
            # RFC 3261 §9.1: no final response 64*T1 after the CANCEL, the INVITE is over
            self._fail(408, "Request Timeout", "no final response after the CANCEL")

    def cancel(self, now: float, why: str) -> None:
        """CANCEL the INVITE; its 487 (or timer B's 408) ends the call."""
        if self._no_answer_at is None or self.finished:
            return
        self._no_answer_at = None
        self._give_up_at = now + self._config.timers.timeout
        logger.info("call %s: %s, cancelling", self.call_id, why)
        self._wire.request(
            build_cancel(self.invite), self._destination, _ignore, _ignore_timeout, now
        )

    # --- responses ----------------------------------------------------------------------------

    def _send(self, now: float) -> None:
        invite = self.invite
        self._wire.request(
            invite,
            self._destination,
            self._on_response,
            lambda at: self._fail(408, "Request Timeout", "the callee never answered the INVITE"),
            now,
        )

    def _on_response(self, response: SipResponse, now: float) -> None:
        if self.finished:
            return
        if response.is_provisional:
            if response.status == 180:
                logger.info("call %s: ringing", self.call_id)
            return
        if response.is_success:
            self._connected(response, now)
            return
        if response.status in (401, 407) and self._digest is not None and not self._authenticated:
            self._authenticated = True
            try:
                self.invite = self._digest.authorize(self.invite, response)
            except AuthError as error:
                self._fail(response.status, response.reason, str(error))
                return
            self._send(now)
            return
        if response.status == 422 and not self._interval_raised:
            self._interval_raised = True
            longer = self._with_longer_session(response)
            if longer is not None:
                self.invite = longer
                self._send(now)
                return
        self._fail(response.status, response.reason, f"{response.status} {response.reason}")

    def _fail(self, status: int, reason: str, why: str) -> None:
        if self.finished:
            return
        self.finished = True
        self._no_answer_at = self._give_up_at = None
        logger.info("call %s not answered: %s", self.call_id, why)
        self._wire.emit(CallEnded(self.call_id, reason, status))

    def _connected(self, response: SipResponse, now: float) -> None:
        self.finished = True
        self._no_answer_at = self._give_up_at = None
        dialog = Dialog.from_uac(self.invite, response)
        ack = dialog.create_ack(self.invite.cseq.seq)
        peer = next_hop(dialog, self._destination)
        self._wire.send(ack, peer)
        try:
            params = accept_answer(self._offer, SessionDescription.parse(response.body))
        except (SdpParseError, SdpNegotiationError) as error:
            self._wire.request(dialog.create_bye(), peer, _ignore, _ignore_timeout, now)
            dialog.terminate()
            why = f"unusable SDP answer: {error}"
            logger.info("call %s: %s", self.call_id, why)
            self._wire.emit(CallEnded(self.call_id, why, 488))
            return
        offer = bytes(self._offer)
        call = ActiveCall(dialog, peer, self._local, params, outbound=True, ack=ack, sdp=offer)
        session = self._session_timer(response)
        if session is not None:
            call.session_timer = SessionTimer(session, allows_update(response), now)
        logger.info("call %s answered (%s)", self.call_id, params.codec.name)
        self._on_connected(call)

    def _with_longer_session(self, refusal: SipResponse) -> SipRequest | None:
        """The INVITE again asking for the callee's Min-SE (RFC 4028 §7.4): CSeq one higher,
        a new branch; None when the 422 names no longer interval."""
        try:
            min_se = read_min_se(refusal)
            asked = SessionExpires.read(self.invite)
        except SipParseError:
            return None
        if min_se is None or asked is None or min_se <= asked.interval:
            return None
        invite = self.invite
        headers = invite.headers.copy()
        top_via = Via.parse(headers.values("Via")[0])
        params = {**top_via.params, "branch": new_branch()}
        headers.set("Via", str(Via(top_via.host, top_via.port, top_via.transport, params)))
        headers.set("CSeq", f"{invite.cseq.seq + 1} INVITE")
        headers.set("Session-Expires", str(min_se))
        headers.set("Min-SE", str(min_se))
        logger.info("call %s: 422, asking again for %d s sessions", self.call_id, min_se)
        return SipRequest(
            headers=headers,
            body=invite.body,
            method=invite.method,
            uri=invite.uri,
            version=invite.version,
        )

    def _session_timer(self, response: SipResponse) -> Agreement | None:
        try:
            return agree_to_response(response)
        except SipParseError as error:
            logger.info("call %s: %s; no session timer", self.call_id, error)
            return None

    # --- the INVITE -----------------------------------------------------------------------------

    def _first_invite(self, user: str) -> SipRequest:
        config = self._config
        local_uri = SipUri(config.host, user, None)
        contact = NameAddr(SipUri(config.host, user, config.port, params=config.contact.uri.params))
        via = Via(
            config.host, config.port, config.transport, {"branch": new_branch(), "rport": None}
        )
        fields = [
            ("Via", str(via)),
            ("Max-Forwards", "70"),
            ("From", f"<{local_uri}>;tag={new_tag()}"),
            ("To", f"<{self._target}>"),
            ("Call-ID", new_call_id(config.host)),
            ("CSeq", "1 INVITE"),
            ("Contact", str(contact)),
            ("Allow", ", ".join(ALLOWED)),
            *request_headers(config.session_expires_s, config.min_se_s, None),
            ("Content-Type", "application/sdp"),
        ]
        return SipRequest.create("INVITE", str(self._target), fields, bytes(self._offer))


def _ignore(response: SipResponse, now: float) -> None:
    """Responses to a CANCEL or a BYE change nothing: the call is over for us either way."""


def _ignore_timeout(now: float) -> None:
    pass
