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
    SipRequest,
    SipResponse,
    SipUri,
    Via,
    new_branch,
    new_call_id,
    new_tag,
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
        call = ActiveCall(dialog, peer, self._local, params, outbound=True, ack=ack)
        logger.info("call %s answered (%s)", self.call_id, params.codec.name)
        self._on_connected(call)

    # --- the INVITE -----------------------------------------------------------------------------

    def _first_invite(self, user: str) -> SipRequest:
        config = self._config
        local_uri = SipUri(config.host, user, None)
        contact = NameAddr(SipUri(config.host, user, config.port))
        via = Via(config.host, config.port, "UDP", {"branch": new_branch(), "rport": None})
        fields = [
            ("Via", str(via)),
            ("Max-Forwards", "70"),
            ("From", f"<{local_uri}>;tag={new_tag()}"),
            ("To", f"<{self._target}>"),
            ("Call-ID", new_call_id(config.host)),
            ("CSeq", "1 INVITE"),
            ("Contact", str(contact)),
            ("Allow", ", ".join(ALLOWED)),
            ("Content-Type", "application/sdp"),
        ]
        return SipRequest.create("INVITE", str(self._target), fields, bytes(self._offer))


def _ignore(response: SipResponse, now: float) -> None:
    """Responses to a CANCEL or a BYE change nothing: the call is over for us either way."""


def _ignore_timeout(now: float) -> None:
    pass
