"""INVITEs we received and have not answered yet: offered to the app, rung, answered, refused
or cancelled by the caller. Driven by the user agent (agent.py); an answered call is handed
back as an `ActiveCall`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from voice_agent.protocol.sdp import (
    AudioParameters,
    Direction,
    LocalMedia,
    SdpNegotiationError,
    SdpParseError,
    SessionDescription,
    create_answer,
    create_offer,
)
from voice_agent.protocol.sip.agent_calls import (
    ALLOWED,
    ActiveCall,
    AgentConfig,
    OfferedCall,
    caller_address,
    caller_id,
    dialled,
    next_hop,
)
from voice_agent.protocol.sip.agent_events import CallAnswered, CallEnded, CallOffered, CallRinging
from voice_agent.protocol.sip.agent_transactions import ServerEntry, TransactionLayer
from voice_agent.protocol.sip.dialog import AnswerRetransmitter, Dialog
from voice_agent.protocol.sip.message import SipRequest, build_response, new_tag
from voice_agent.protocol.sip.session_timer import (
    TIMER,
    SessionTimer,
    TooSmall,
    agree_to_request,
    allows_update,
)
from voice_agent.protocol.sip.transaction import (
    TransactionKey,
    TransactionState,
    cancelled_invite_key,
)

logger = logging.getLogger(__name__)


class IncomingCalls:
    def __init__(self, wire: TransactionLayer, config: AgentConfig) -> None:
        self._wire = wire
        self._config = config
        self._offered: dict[str, OfferedCall] = {}

    @property
    def call_ids(self) -> list[str]:
        return list(self._offered)

    def offer(self, invite: SipRequest, entry: ServerEntry, now: float) -> None:
        """A new INVITE that passed the screening: check it, then offer it to the app."""
        if len(invite.contacts) != 1:
            response = build_response(invite, 400, "One Contact Required", to_tag=new_tag())
            self._wire.respond(entry, response, f"{len(invite.contacts)} Contact headers", now)
            return
        session = agree_to_request(invite, self._config.session_expires_s, self._config.min_se_s)
        if isinstance(session, TooSmall):
            refuse_too_small(self._wire, invite, entry, session, new_tag(), now)
            return
        readable, offer = read_offer(self._wire, invite, entry, new_tag(), now)
        if not readable:
            return
        offered = OfferedCall(invite, entry.transaction.key, entry.source, new_tag(), offer)
        offered.session = session
        self._offered[invite.call_id] = offered
        caller = caller_id(invite, caller_address(invite, entry.source, self._config.is_proxy))
        self._wire.emit(CallOffered(invite.call_id, caller, dialled(invite), entry.source, offer))

    def ring(self, call_id: str, local: LocalMedia, now: float) -> None:
        offered, entry = self._find(call_id)
        if offered is None or entry is None:
            return
        try:
            answer, params = negotiate(offered.offer, local)
        except SdpNegotiationError as error:
            warning = [("Warning", f'305 {self._config.host} "{str(error)[:200]}"')]
            response = build_response(offered.invite, 488, to_tag=offered.to_tag, headers=warning)
            self._wire.respond(entry, response, f"no common codec: {error}", now)
            self._end(offered, f"no common codec: {error}", 488)
            return
        offered.local, offered.answer, offered.params = local, answer, params
        headers = [("Contact", str(self._config.contact))]
        ringing = build_response(offered.invite, 180, to_tag=offered.to_tag, headers=headers)
        self._wire.respond(entry, ringing, None, now)
        self._wire.emit(CallRinging(call_id, params))

    def answer(self, call_id: str, now: float) -> ActiveCall | None:
        """200 with our answer (or our offer, when the INVITE had none): the call is up."""
        offered, entry = self._find(call_id)
        if offered is None or entry is None or offered.local is None or offered.params is None:
            return None
        body = offered.answer if offered.answer is not None else create_offer(offered.local)
        contact = self._config.contact
        headers = [("Contact", str(contact)), ("Allow", ", ".join(ALLOWED)), ("Supported", TIMER)]
        if offered.session is not None:
            headers += offered.session.response_headers()
        response = build_response(
            offered.invite,
            200,
            to_tag=offered.to_tag,
            headers=headers,
            body=bytes(body),
            content_type="application/sdp",
        )
        dialog = Dialog.from_uas(offered.invite, response, contact)
        dialog.transport = self._config.transport  # our Via in our requests: how we send
        peer = next_hop(dialog, offered.source)
        call = ActiveCall(
            dialog, peer, offered.local, offered.params, outbound=False, sdp=bytes(body)
        )
        if offered.session is not None:
            use_update = allows_update(offered.invite)
            call.session_timer = SessionTimer(offered.session, use_update, now)
        if offered.answer is None:
            call.offer = body  # the answer comes in the ACK
        call.retransmitter = AnswerRetransmitter(response, now, self._config.timers)
        del self._offered[call_id]
        self._wire.respond(entry, response, None, now)
        logger.info("answered call %s (%s)", call_id, offered.params.codec.name)
        self._wire.emit(CallAnswered(call_id, offered.params, peer, outbound=False))
        return call

    def refuse(
        self,
        call_id: str,
        status: int,
        why: str,
        now: float,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        offered, entry = self._find(call_id)
        if offered is None:
            return
        if entry is not None and entry.transaction.state is TransactionState.PROCEEDING:
            invite, to_tag = offered.invite, offered.to_tag
            response = build_response(invite, status, to_tag=to_tag, headers=headers)
            self._wire.respond(entry, response, why, now)
        self._end(offered, why, status)

    def cancel(self, cancel: SipRequest, entry: ServerEntry, now: float) -> None:
        """CANCEL: 200 for the CANCEL and 487 for its INVITE, or 481 when nothing matches."""
        invite_key = cancelled_invite_key(cancel)
        if self._wire.server.get(invite_key) is None:
            response = build_response(cancel, 481, to_tag=new_tag())
            self._wire.respond(entry, response, "nothing to cancel", now)
            return
        offered = next((o for o in self._offered.values() if o.key == invite_key), None)
        to_tag = offered.to_tag if offered else None
        self._wire.respond(entry, build_response(cancel, 200, to_tag=to_tag), None, now)
        if offered is not None:
            logger.info("call %s cancelled by the caller before the answer", cancel.call_id)
            self.refuse(offered.invite.call_id, 487, "cancelled by the caller", now)

    def forget(self, key: TransactionKey) -> None:
        """The INVITE transaction `key` ended (timer H after a refusal, or L)."""
        for offered in list(self._offered.values()):
            if offered.key == key:
                self._end(offered, "the INVITE transaction ended", None)

    def _find(self, call_id: str) -> tuple[OfferedCall | None, ServerEntry | None]:
        offered = self._offered.get(call_id)
        return offered, self._wire.server.get(offered.key) if offered else None

    def _end(self, offered: OfferedCall, reason: str, status: int | None) -> None:
        if self._offered.pop(offered.invite.call_id, None) is not None:
            self._wire.emit(CallEnded(offered.invite.call_id, reason, status))


def read_offer(
    wire: TransactionLayer, invite: SipRequest, entry: ServerEntry, to_tag: str | None, now: float
) -> tuple[bool, SessionDescription | None]:
    """(False, None) if the body was refused (and answered); else (True, the offer or None
    when the INVITE has none)."""
    if not invite.body:
        return True, None
    if invite.content_type != "application/sdp":
        accept = [("Accept", "application/sdp")]
        response = build_response(invite, 415, to_tag=to_tag, headers=accept)
        wire.respond(entry, response, f"body of type {invite.content_type}", now)
        return False, None
    try:
        return True, SessionDescription.parse(invite.body)
    except SdpParseError as error:
        response = build_response(invite, 400, "Malformed SDP", to_tag=to_tag)
        wire.respond(entry, response, f"malformed SDP: {error}", now)
        return False, None


def refuse_too_small(
    wire: TransactionLayer,
    request: SipRequest,
    entry: ServerEntry,
    too_small: TooSmall,
    to_tag: str | None,
    now: float,
) -> None:
    """422 Session Interval Too Small, with the Min-SE we accept (RFC 4028 §8.1)."""
    min_se = [("Min-SE", str(too_small.min_se))]
    response = build_response(request, 422, to_tag=to_tag, headers=min_se)
    wire.respond(entry, response, f"session interval below our Min-SE {too_small.min_se}", now)


def negotiate(
    offer: SessionDescription | None, local: LocalMedia
) -> tuple[SessionDescription | None, AudioParameters]:
    """Our answer and the media agreed; with no offer, ours goes in the 200 and until the
    answer comes in the ACK nothing is known of the caller's media, so nothing is sent."""
    if offer is None:
        params = AudioParameters("0.0.0.0", 0, local.codecs[0], None, 20, Direction.RECVONLY)
        return None, params
    return create_answer(offer, local)
