"""The user agent's side of session timers (session_timer.py, RFC 4028) for calls that are up:
our refreshes (re-INVITE with the SDP last sent, or UPDATE) and the end of a call that nobody
refreshed. Driven by agent.py; `end` is its BYE, `media_changed` its MediaChanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from voice_agent.protocol.sdp import (
    AudioParameters,
    SdpNegotiationError,
    SdpParseError,
    SessionDescription,
    accept_answer,
)
from voice_agent.protocol.sip.agent_calls import ActiveCall, AgentConfig
from voice_agent.protocol.sip.agent_transactions import TransactionLayer
from voice_agent.protocol.sip.dialog import DialogState
from voice_agent.protocol.sip.message import SipParseError, SipRequest, SipResponse
from voice_agent.protocol.sip.session_timer import (
    GLARE_RETRY_S,
    agree_to_response,
    read_min_se,
    request_headers,
)

logger = logging.getLogger(__name__)

EXPIRED = "session timer expired"


class Refreshes:
    def __init__(
        self,
        wire: TransactionLayer,
        config: AgentConfig,
        end: Callable[[ActiveCall, str, float], None],
        media_changed: Callable[[ActiveCall, AudioParameters], None],
    ) -> None:
        self._wire = wire
        self._config = config
        self._end = end
        self._media_changed = media_changed

    def on_timer(self, call: ActiveCall, now: float) -> None:
        timer = call.session_timer
        if timer is None:
            return
        if timer.expired(now):
            who = "our refresh was not accepted" if timer.we_refresh else "no refresh came"
            self._end(call, f"{EXPIRED} ({who} within {timer.interval} s)", now)
        elif timer.refresh_due(now):
            self._send(call, now)

    def _send(self, call: ActiveCall, now: float) -> None:
        timer = call.session_timer
        assert timer is not None
        timer.refresh_sent()
        headers = request_headers(timer.interval, self._config.min_se_s, "uac")
        if timer.use_update:
            request = call.dialog.create_request("UPDATE", headers=headers)
        else:  # the same SDP, same o= version: the session has not changed (RFC 3264 §8)
            request = call.dialog.create_request(
                "INVITE", body=call.sdp, content_type="application/sdp", headers=headers
            )
        acks: list[SipRequest] = []

        def on_response(response: SipResponse, at: float) -> None:
            self._answered(call, request, response, acks, at)

        def on_timeout(at: float) -> None:
            self._end(call, "the session refresh got no answer", at)

        logger.info("call %s: refreshing the session (%s)", call.call_id, request.method)
        self._wire.request(request, call.peer, on_response, on_timeout, now)

    def _answered(
        self,
        call: ActiveCall,
        request: SipRequest,
        response: SipResponse,
        acks: list[SipRequest],
        now: float,
    ) -> None:
        if response.is_provisional or call.dialog.state is DialogState.TERMINATED:
            return
        if response.is_success:
            if request.method == "INVITE":
                if acks:  # a copy of the 2xx: our ACK was lost
                    self._wire.send(acks[0], call.peer)
                    return
                acks.append(call.dialog.create_ack(request.cseq.seq))
                self._wire.send(acks[0], call.peer)
            call.dialog.receive_response(response)
            self._accepted(call, request, response, now)
        else:
            self._refused(call, response, now)

    def _accepted(
        self, call: ActiveCall, request: SipRequest, response: SipResponse, now: float
    ) -> None:
        if response.body and request.body:
            try:
                offer = SessionDescription.parse(request.body)
                params = accept_answer(offer, SessionDescription.parse(response.body))
            except (SdpParseError, SdpNegotiationError) as error:
                logger.info("call %s: unusable answer to our refresh: %s", call.call_id, error)
            else:
                if params != call.params:
                    self._media_changed(call, params)
        try:
            agreement = agree_to_response(response)
        except SipParseError as error:
            logger.info("call %s: %s; session timer off", call.call_id, error)
            agreement = None
        if agreement is None:
            logger.info("call %s: the peer dropped the session timer", call.call_id)
            call.session_timer = None
        elif call.session_timer is not None:
            call.session_timer.restart(agreement, now)

    def _refused(self, call: ActiveCall, response: SipResponse, now: float) -> None:
        timer = call.session_timer
        status = response.status
        logger.info(
            "call %s: session refresh answered %d %s", call.call_id, status, response.reason
        )
        if status in (408, 481):  # RFC 3261 §12.2.1.2: the dialog is gone
            call.dialog.receive_response(response)
            self._end(call, f"the session refresh was answered {status} {response.reason}", now)
        elif timer is None:
            return
        elif status == 491:  # both sides re-INVITEd at once
            timer.retry_at(now + GLARE_RETRY_S)
        elif status == 422:
            try:
                min_se = read_min_se(response)
            except SipParseError:
                min_se = None
            if min_se is not None and min_se > timer.interval:
                timer.interval = min_se
                timer.retry_at(now)
        # otherwise the session stays as it is until it expires (RFC 4028 §10)
