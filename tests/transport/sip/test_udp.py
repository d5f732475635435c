"""The SIP endpoint over real loopback UDP, against a scripted peer written here.

Interoperability with real SIP software (sipp, baresip, kamailio) is in test_sip_peers.py;
these tests pin each behaviour down one at a time, quickly.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import socket
import sys
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.fakes.stages import EchoDialogue, EnergyVad, ListRecorder, ScriptedAsr, ToneTts
from tests.transport.sip.support import Dialogue, RtpSink, Session, SipPeer, offer, sdp_of
from voice_agent.agent.events import CallerSaid
from voice_agent.agent.limits import CallLimiter
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallParts
from voice_agent.agent.session import CallSession
from voice_agent.bench.voices import EspeakVoice
from voice_agent.clock import Clock, FakeClock, RealClock
from voice_agent.protocol.dtmf import digit_packets
from voice_agent.protocol.rtp import RtpPacket, RtpSender
from voice_agent.protocol.sdp import PCMA, Codec, Direction
from voice_agent.protocol.sip.auth import DigestChallenge, DigestClient, DigestServer
from voice_agent.protocol.sip.message import SipRequest, SipResponse, build_response, new_tag
from voice_agent.settings import SessionSettings, SipAccount, SipSettings, SipTrunkSettings
from voice_agent.transport.forwarded import proxy_networks
from voice_agent.transport.sip import CallRunner, OutboundCallError, SipCall, SipEndpoint

G729 = Codec("G729", 8000, 18)


@asynccontextmanager
async def agent(
    session: CallRunner | None = None,
    clock: Clock | None = None,
    limiter: CallLimiter | None = None,
    register: bool = True,
    **settings: Any,
) -> AsyncIterator[SipEndpoint]:
    values: dict[str, Any] = {"listen_port": 0, "t1_ms": 50, **settings}
    endpoint = SipEndpoint(
        SipSettings(**values),
        clock or RealClock(),
        limiter or CallLimiter(2),
        session or Session(),
    )
    await endpoint.start(register=register)
    try:
        yield endpoint
    finally:
        await endpoint.aclose()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 60))


async def _call(
    endpoint: SipEndpoint, peer: SipPeer, rtp_port: int, user: str = "shopper"
) -> tuple[Dialogue, SipRequest]:
    """Place a call from the peer (as `user`) and acknowledge the answer."""
    dialogue = Dialogue(peer, endpoint.address, user=user)
    invite = dialogue.request("INVITE", offer(rtp_port), "application/sdp")
    dialogue.send(invite)
    answer = await peer.response()
    assert answer.status == 200, answer
    dialogue.to_tag = answer.to_addr.tag
    dialogue.send(dialogue.ack(invite, answer))
    return dialogue, invite


def test_options_are_answered_with_what_the_line_supports() -> None:
    async def scenario() -> None:
        async with agent() as endpoint:
            peer = await SipPeer.open()
            Dialogue(peer, endpoint.address).send(
                Dialogue(peer, endpoint.address).request("OPTIONS")
            )
            response = await peer.response()
            assert response.status == 200
            allow = response.headers.get("Allow") or ""
            assert {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"} <= set(
                allow.replace(",", " ").split()
            )
            assert response.to_addr.tag

    run(scenario)


def test_a_call_is_answered_100_180_200_and_the_caller_hangs_up_with_bye() -> None:
    async def scenario() -> None:
        session = Session()
        async with agent(session) as endpoint:
            peer = await SipPeer.open()
            sink = await RtpSink.open()
            dialogue = Dialogue(peer, endpoint.address)
            invite = dialogue.request("INVITE", offer(sink.port), "application/sdp")
            dialogue.send(invite)
            responses = [await peer.response(final=False) for _ in range(3)]
            assert [r.status for r in responses] == [100, 180, 200]
            answer = responses[2]
            assert [c.name for c in sdp_of(answer).media[0].codecs()] == ["PCMU", "telephone-event"]
            assert answer.contacts and answer.to_addr.tag == responses[1].to_addr.tag
            dialogue.to_tag = answer.to_addr.tag
            dialogue.send(dialogue.ack(invite, answer))
            await session.started.wait()
            call = session.calls[0]
            await asyncio.sleep(0.3)
            dialogue.send(dialogue.request("BYE"))
            bye_answer = await peer.response()
            assert bye_answer.status == 200
            await call.wait()
            assert call.ended == "the caller hung up"
            assert session.frames, "the session heard nothing"
            assert sink.packets, "no RTP reached the caller"
            sink.close()

    run(scenario)


def test_the_agent_hangs_up_with_bye() -> None:
    async def hang_up_after_some_audio(call: SipCall, playout: Playout, frames: int) -> None:
        if frames == 10:
            await call.hang_up()

    async def scenario() -> None:
        session = Session(action=hang_up_after_some_audio)
        async with agent(session) as endpoint:
            peer = await SipPeer.open()
            await _call(endpoint, peer, 40000)
            bye = await peer.request("BYE")
            peer.send(build_response(bye, 200), endpoint.address)
            await session.calls[0].wait()
            assert session.calls[0].ended == "agent hung up"
            assert (
                bye.to_addr.tag is not None
                and bye.from_addr.tag == session.calls[0].dialog.local_tag
            )

    run(scenario)


def test_an_offer_without_a_common_codec_is_refused_with_488() -> None:
    async def scenario() -> None:
        session = Session()
        async with agent(session) as endpoint:
            peer = await SipPeer.open()
            dialogue = Dialogue(peer, endpoint.address)
            invite = dialogue.request("INVITE", offer(40000, (G729,)), "application/sdp")
            dialogue.send(invite)
            refusal = await peer.response()
            assert refusal.status == 488
            assert "G729" in (refusal.headers.get("Warning") or "")
            dialogue.send(dialogue.ack(invite, refusal))
            assert not session.calls

    run(scenario)


def test_a_codec_we_support_but_do_not_list_first_is_chosen() -> None:
    async def scenario() -> None:
        session = Session()
        async with agent(session) as endpoint:
            peer = await SipPeer.open()
            dialogue = Dialogue(peer, endpoint.address)
            dialogue.send(dialogue.request("INVITE", offer(40000, (G729, PCMA)), "application/sdp"))
            answer = await peer.response()
            assert answer.status == 200
            assert sdp_of(answer).media[0].codecs()[0].name == "PCMA"

    run(scenario)


@pytest.mark.parametrize("why", ["full", "draining"])
def test_at_the_call_limit_or_draining_invite_and_options_get_503_retry_after(why: str) -> None:
    """503, not 486: a proxy in front of several agents fails over on 503 (486 is the
    caller's busy tone), and its OPTIONS probe takes this agent out of the rotation."""

    async def scenario() -> None:
        limiter = CallLimiter(1, retry_after_s=17)
        held = limiter.try_acquire("sip") if why == "full" else None
        if why == "draining":
            limiter.drain()
        async with agent(limiter=limiter) as endpoint:
            peer = await SipPeer.open()
            probe = Dialogue(peer, endpoint.address)
            probe.send(probe.request("OPTIONS"))
            unavailable = await peer.response()
            assert (unavailable.status, unavailable.headers.get("Retry-After")) == (503, "17")
            dialogue = Dialogue(peer, endpoint.address)
            invite = dialogue.request("INVITE", offer(40000), "application/sdp")
            dialogue.send(invite)
            refused = await peer.response()
            assert (refused.status, refused.headers.get("Retry-After")) == (503, "17")
            dialogue.send(dialogue.ack(invite, refused))
            if held is not None:
                held.release()
                probe.send(probe.request("OPTIONS"))
                answer = await peer.response()
                while answer.cseq.method != "OPTIONS":  # a copy of the 503 sent before our ACK
                    answer = await peer.response()
                assert answer.status == 200  # a line is free again
        assert limiter.active == 0

    run(scenario)


def test_a_malformed_request_gets_400_and_garbage_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        async with agent() as endpoint:
            peer = await SipPeer.open()
            request = Dialogue(peer, endpoint.address).request("OPTIONS")
            request.headers.set("CSeq", "one OPTIONS")
            peer.send(request, endpoint.address)
            await peer.quiet(0.3)
            # the 400 copies the bad CSeq, so it is read raw
            assert len(peer.raw) == 1 and peer.raw[0].startswith(b"SIP/2.0 400 Bad Request")
            assert b"Warning: 399" in peer.raw[0] and b"CSeq" in peer.raw[0]
            peer.send(b"\x16\x03\x01 not sip at all", endpoint.address)
            assert await peer.quiet(0.3) == []

    with caplog.at_level(logging.INFO):
        run(scenario)
    assert any("400" in record.getMessage() for record in caplog.records)


def test_a_flood_of_garbage_is_dropped_and_the_line_still_answers() -> None:
    async def scenario() -> None:
        clock = FakeClock(50.0)
        async with agent(clock=clock, rate_limit_per_s=10.0, rate_limit_burst=20) as endpoint:
            flooder = await SipPeer.open("127.0.0.3")
            junk = Dialogue(flooder, endpoint.address).request("INVITE")
            junk.headers.set("Max-Forwards", "many")
            for index in range(3000):
                flooder.send(bytes(junk) if index % 2 else b"%" * (index % 900), endpoint.address)
                if index % 100 == 0:
                    await asyncio.sleep(0)
            answered = await flooder.quiet(0.5)
            assert 0 < len(answered) <= 20  # a burst's worth of 400s, then silence
            caller = await SipPeer.open("127.0.0.2")
            dialogue = Dialogue(caller, endpoint.address)
            dialogue.send(dialogue.request("OPTIONS"))
            assert (await caller.response()).status == 200
            clock.advance(10.0)  # the flooder's bucket refills
            dialogue = Dialogue(flooder, endpoint.address)
            dialogue.send(dialogue.request("OPTIONS"))
            assert (await flooder.response()).status == 200

    run(scenario)


def test_unknown_methods_get_501_and_unserved_ones_405() -> None:
    async def scenario() -> None:
        async with agent() as endpoint:
            peer = await SipPeer.open()
            for method, status in (("FROBNICATE", 501), ("REGISTER", 405), ("SUBSCRIBE", 405)):
                dialogue = Dialogue(peer, endpoint.address)
                dialogue.send(dialogue.request(method))
                response = await peer.response()
                assert response.status == status, method
                if status == 405:
                    assert "INVITE" in (response.headers.get("Allow") or "")

    run(scenario)


def test_a_source_outside_the_allowed_networks_is_refused_with_403() -> None:
    async def scenario() -> None:
        async with agent(allowed_networks=("127.0.0.2/32",)) as endpoint:
            stranger = await SipPeer.open("127.0.0.3")
            dialogue = Dialogue(stranger, endpoint.address)
            dialogue.send(dialogue.request("INVITE", offer(40000), "application/sdp"))
            assert (await stranger.response()).status == 403
            friend = await SipPeer.open("127.0.0.2")
            dialogue = Dialogue(friend, endpoint.address)
            dialogue.send(dialogue.request("OPTIONS"))
            assert (await friend.response()).status == 200

    run(scenario)


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_other_sources_may_call_after_digest_authentication(algorithm: str) -> None:
    async def scenario() -> None:
        users = (SipAccount(username="desk", password="s3cret"),)
        session = Session()
        async with agent(
            session, allowed_networks=(), auth_users=users, auth_algorithms=(algorithm,)
        ) as endpoint:
            peer = await SipPeer.open()
            dialogue = Dialogue(peer, endpoint.address)
            invite = dialogue.request("INVITE", offer(40000), "application/sdp")
            dialogue.send(invite)
            challenge = await peer.response()
            assert challenge.status == 401
            offered = DigestChallenge.parse(challenge.headers.get("WWW-Authenticate") or "")
            assert offered.algorithm == algorithm
            dialogue.send(dialogue.ack(invite, challenge))
            wrong = DigestClient("desk", "guess").authorize(invite, challenge)
            dialogue.send(wrong)
            assert (await peer.response()).status == 401
            right = DigestClient("desk", "s3cret").authorize(invite, challenge)
            right.headers.set("CSeq", f"{invite.cseq.seq + 2} INVITE")
            dialogue.send(right)
            assert (await peer.response()).status == 200
            await session.started.wait()

    run(scenario)


def test_cancel_before_the_answer_ends_the_invite_with_487() -> None:
    async def scenario() -> None:
        clock = FakeClock(10.0)  # never advanced: the agent rings forever
        limiter = CallLimiter(1)
        session = Session()
        async with agent(session, clock=clock, limiter=limiter, ring_s=30.0) as endpoint:
            peer = await SipPeer.open()
            dialogue = Dialogue(peer, endpoint.address)
            invite = dialogue.request("INVITE", offer(40000), "application/sdp")
            dialogue.send(invite)
            assert (await peer.response(final=False)).status == 100
            assert (await peer.response(final=False)).status == 180
            cancel = dialogue.request("CANCEL", seq=invite.cseq.seq, branch=invite.top_via.branch)
            dialogue.send(cancel)
            responses = {
                (r.cseq.method, r.status) for r in [await peer.response(), await peer.response()]
            }
            assert responses == {("CANCEL", 200), ("INVITE", 487)}
            dialogue.send(dialogue.ack(invite, build_response(invite, 487)))
            assert limiter.active == 0 and not session.calls

    run(scenario)


def test_hold_and_resume_by_reinvite() -> None:
    async def scenario() -> None:
        session = Session()
        async with agent(session) as endpoint:
            peer = await SipPeer.open()
            sink = await RtpSink.open()
            dialogue, _ = await _call(endpoint, peer, sink.port)
            await session.started.wait()
            call = session.calls[0]
            hold = dialogue.request(
                "INVITE", offer(sink.port, direction="sendonly"), "application/sdp"
            )
            dialogue.send(hold)
            answer = await peer.response()
            assert answer.status == 200
            assert sdp_of(answer).direction_of(sdp_of(answer).media[0]) is Direction.RECVONLY
            dialogue.send(dialogue.ack(hold, answer))
            await asyncio.sleep(0.1)
            held_at = len(sink.packets)
            await asyncio.sleep(0.4)
            assert len(sink.packets) == held_at, "audio still sent on hold"
            assert call.ended is None and call.held
            resume = dialogue.request("INVITE", offer(sink.port), "application/sdp")
            dialogue.send(resume)
            answer = await peer.response()
            assert sdp_of(answer).direction_of(sdp_of(answer).media[0]) is Direction.SENDRECV
            dialogue.send(dialogue.ack(resume, answer))
            await asyncio.sleep(0.3)
            assert len(sink.packets) > held_at + 5
            assert not call.held
            assert session.holds == [True, False]  # handed to the session with the audio
            sink.close()

    run(scenario)


def test_an_unacknowledged_answer_is_retransmitted_then_the_call_is_ended() -> None:
    async def scenario() -> None:
        session = Session()
        async with agent(session) as endpoint:  # T1 = 50 ms: give-up after 3.2 s
            peer = await SipPeer.open()
            dialogue = Dialogue(peer, endpoint.address)
            dialogue.send(dialogue.request("INVITE", offer(40000), "application/sdp"))
            bye = await peer.request("BYE", wait=10)
            peer.send(build_response(bye, 200), endpoint.address)
            answers = [
                message
                for message in (
                    SipResponse.parse(d) for d in peer.raw if d.startswith(b"SIP/2.0 200")
                )
                if message.cseq.method == "INVITE"
            ]
            assert len(answers) >= 5
            await session.calls[0].wait()
            assert "no ACK" in (session.calls[0].ended or "")

    run(scenario)


def test_keypad_digits_by_sip_info_reach_the_session() -> None:
    async def scenario() -> None:
        session = Session()
        async with agent(session) as endpoint:
            peer = await SipPeer.open()
            dialogue, _ = await _call(endpoint, peer, 40000)
            for body in (b"Signal=5\r\nDuration=160\r\n", b"Signal=#\r\nDuration=160\r\n"):
                dialogue.send(dialogue.request("INFO", body, "application/dtmf-relay"))
                assert (await peer.response()).status == 200
            await asyncio.sleep(0.1)
            assert session.digits == ["5", "#"]

    run(scenario)


def test_requests_for_a_call_that_does_not_exist_get_481() -> None:
    async def scenario() -> None:
        async with agent() as endpoint:
            peer = await SipPeer.open()
            dialogue = Dialogue(peer, endpoint.address, to_tag="nosuchcall")
            dialogue.send(dialogue.request("BYE"))
            assert (await peer.response()).status == 481

    run(scenario)


def test_an_offer_of_a_hundred_million_keypad_events_is_answered_and_the_line_keeps_answering() -> (
    None
):
    async def scenario() -> None:
        session = Session()
        async with agent(session) as endpoint:
            peer = await SipPeer.open()
            dialogue = Dialogue(peer, endpoint.address)
            body = offer(40000).replace(b"a=fmtp:101 0-16", b"a=fmtp:101 0-99999999")
            assert b"0-99999999" in body
            invite = dialogue.request("INVITE", body, "application/sdp")
            # expanding the range once stalled the line for 14.6 s; a stalled loop fires its
            # own timeouts late, so the deadline is checked against the wall clock
            deadline = time.monotonic() + 2.0
            dialogue.send(invite)
            probe = Dialogue(peer, endpoint.address)
            probe.send(probe.request("OPTIONS"))
            answers: dict[str, SipResponse] = {}
            while len(answers) < 2:
                response = await peer.response(wait=2.0)
                answers[response.cseq.method] = response
            assert time.monotonic() < deadline, "the line stalled"
            assert answers["OPTIONS"].status == 200
            answer = answers["INVITE"]
            assert answer.status == 200
            events = sdp_of(answer).media[0].codecs()[1]
            assert (events.name, events.fmtp) == ("telephone-event", "0-16")
            dialogue.to_tag = answer.to_addr.tag
            dialogue.send(dialogue.ack(invite, answer))
            await session.started.wait()
            dialogue.send(dialogue.request("BYE"))
            assert (await peer.response()).status == 200

    run(scenario)


def test_an_sdp_naming_a_host_instead_of_an_address_gets_400_and_the_line_keeps_answering() -> None:
    async def scenario() -> None:
        session = Session()
        async with agent(session) as endpoint:
            peer = await SipPeer.open()
            dialogue = Dialogue(peer, endpoint.address)
            body = offer(40000).replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 pbx.example.com")
            assert b"pbx.example.com" in body
            invite = dialogue.request("INVITE", body, "application/sdp")
            dialogue.send(invite)
            refusal = await peer.response()
            assert (refusal.status, refusal.reason) == (400, "Malformed SDP")
            dialogue.send(dialogue.ack(invite, refusal))
            probe = Dialogue(peer, endpoint.address)
            probe.send(probe.request("OPTIONS"))
            assert (await peer.response(wait=2.0)).status == 200
            assert not session.calls

    run(scenario)


def test_the_line_is_free_again_as_soon_as_the_callers_bye_is_answered() -> None:
    async def scenario() -> None:
        session = Session()
        cleaned_up = asyncio.Event()

        async def slow_to_clean_up(call: SipCall, playout: Playout, caller_id: str) -> None:
            await session(call, playout, caller_id)
            await cleaned_up.wait()  # a real session goes on saving the call for a while

        async with agent(slow_to_clean_up, limiter=CallLimiter(1)) as endpoint:
            peer = await SipPeer.open()
            first, _ = await _call(endpoint, peer, 40000)
            await session.started.wait()
            first.send(first.request("BYE"))
            assert (await peer.response()).status == 200
            second = Dialogue(peer, endpoint.address)
            invite = second.request("INVITE", offer(40002), "application/sdp")
            second.send(invite)
            answer = await peer.response()
            assert answer.status == 200, "the line was still busy with the call that ended"
            second.to_tag = answer.to_addr.tag
            second.send(second.ack(invite, answer))
            second.send(second.request("BYE"))
            assert (await peer.response()).status == 200
            cleaned_up.set()

    run(scenario)


def test_the_sip_socket_has_a_large_receive_buffer_and_counts_what_overflows_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def overflow_warned() -> bool:
        return any(
            record.levelno == logging.WARNING and "receive buffer was full" in record.getMessage()
            for record in caplog.records
        )

    async def scenario() -> None:
        async with agent() as endpoint:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as burst:
                default = burst.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
                assert endpoint.receive_buffer_bytes > default
                if sys.platform != "linux":
                    assert endpoint.receive_drops() is None
                    return
                assert endpoint.receive_drops() == 0
                # the endpoint cannot read while this coroutine holds the loop: twice its
                # buffer's worth overflows it
                for _ in range(2 * endpoint.receive_buffer_bytes // 60_000):
                    burst.sendto(bytes(60_000), endpoint.address)
            drops = endpoint.receive_drops()
            assert drops is not None and drops > 0
            for _ in range(50):  # the counter is read at most once a second
                if overflow_warned():
                    break
                await asyncio.sleep(0.1)
            assert overflow_warned()

    with caplog.at_level(logging.INFO):
        run(scenario)
    assert any("receive buffer" in record.getMessage() for record in caplog.records)


def test_the_callers_number_and_keypad_digits_stay_out_of_the_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    number, keys = "+447700900321", "8642"

    async def scenario() -> None:
        session = Session()
        async with agent(session) as endpoint:
            peer = await SipPeer.open()
            sink = await RtpSink.open()
            dialogue, _ = await _call(endpoint, peer, sink.port, user=number)
            await session.started.wait()
            call = session.calls[0]
            assert call.caller_id == f"{number}@127.0.0.1"  # the number, and where it came from
            sender = RtpSender(0, ssrc=0x4242)
            for key in keys:
                for packet in digit_packets(sender, key, payload_type=101):
                    sink.send(bytes(packet), ("127.0.0.1", call.rtp.local_port))
                    await asyncio.sleep(0.005)
            for _ in range(100):
                if len(session.digits) == len(keys):
                    break
                await asyncio.sleep(0.02)
            assert "".join(session.digits) == keys
            call.publish(CallerSaid(endpoint.clock.now(), f"(keypad) {keys}"))  # as sessions do
            dialogue.send(dialogue.request("BYE"))
            assert (await peer.response()).status == 200
            await call.wait()
            sink.close()

    with caplog.at_level(logging.DEBUG):
        run(scenario)
    messages = [record.getMessage() for record in caplog.records]
    assert any("keypad digit received" in message for message in messages)
    for message in messages:
        assert number[1:] not in message
        assert not re.search(r"(?<![0-9A-Za-z])0321(?![0-9A-Za-z])", message), message
        assert keys not in message, message
        assert not re.search(r"keypad[^0-9*#]*[0-9*#]", message), message


# --- registration and calls out ------------------------------------------------------------------


class Registrar(SipPeer):
    """A registrar that challenges (digest) and grants a lifetime."""

    def __init__(self, grant: int | None = 60, min_expires: int = 0) -> None:
        super().__init__()
        self.digest = DigestServer("shop.example", b"k" * 32, algorithms=("SHA-256", "MD5"))
        self.grant = grant  # None: what was asked for
        self.min_expires = min_expires
        self.registers: list[SipRequest] = []

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        request = SipRequest.parse(data)
        self.registers.append(request)
        source = (str(addr[0]), int(addr[1]))
        result = self.digest.verify(request, 0.0, {"agent": "pw"}.get)
        if result.outcome.value != "ok":
            self.send(self.digest.challenge(request, 0.0, to_tag="reg"), source)
            return
        asked = int(request.headers.get("Expires") or "0")
        if 0 < asked < self.min_expires:
            headers = [("Min-Expires", str(self.min_expires))]
            self.send(build_response(request, 423, to_tag="reg", headers=headers), source)
            return
        contact = request.headers.get("Contact") or ""
        grant = asked if self.grant is None else self.grant
        response = build_response(
            request, 200, to_tag="reg", headers=[("Contact", f"{contact};expires={grant}")]
        )
        self.send(response, source)


def test_registration_answers_the_challenge_and_refreshes_before_expiry() -> None:
    async def scenario() -> None:
        clock = FakeClock(100.0)
        loop = asyncio.get_running_loop()
        registrar = Registrar(grant=60)
        transport, _ = await loop.create_datagram_endpoint(
            lambda: registrar, local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        trunk = SipTrunkSettings(registrar=f"sip:127.0.0.1:{port}", username="agent", password="pw")
        async with agent(clock=clock, trunk=trunk, allowed_networks=()) as endpoint:
            registration = endpoint.registration
            assert registration is not None
            await asyncio.wait_for(registration.registered.wait(), 5)
            assert registration.registered_until == pytest.approx(160.0)
            assert [r.headers.get("Authorization") is not None for r in registrar.registers] == [
                False,
                True,
            ]
            assert "algorithm=SHA-256" in (
                registrar.registers[1].headers.get("Authorization") or ""
            )
            clock.advance(29.0)
            await asyncio.sleep(0.2)
            assert len(registrar.registers) == 2, "refreshed too early"
            clock.advance(1.5)  # half the granted lifetime has passed
            for _ in range(50):
                await asyncio.sleep(0.02)
                if registration.successes == 2:
                    break
            assert registration.successes == 2
            assert registration.registered_until == pytest.approx(130.5 + 60.0, abs=0.1)
            # the registrar's address may call in though no network is allowed
            assert endpoint.access.trusted(("127.0.0.1", port))
            assert not endpoint.access.trusted(("127.0.0.1", port + 1))
        assert registrar.registers[-1].headers.get("Expires") == "0"  # unregistered on close
        transport.close()

    run(scenario)


def test_an_outbound_call_greets_at_once_without_waiting_for_the_callee() -> None:
    greeting = EspeakVoice("en-us").speak("Hello, this is the shop calling about your order.")

    async def greet(call: SipCall, playout: Playout, frames: int) -> None:
        if frames == 1:
            playout.begin_reply(["Hello, this is the shop calling about your order."])
            playout.write(greeting, 0)
            playout.segment_complete(0)
            playout.finish_writing()
        elif frames == 150:
            await call.hang_up()

    async def scenario() -> None:
        session = Session(action=greet)
        callee = await SipPeer.open()
        trunk = SipTrunkSettings(
            registrar=f"sip:{callee.address[0]}:{callee.address[1]}", username="shop", password="pw"
        )
        async with agent(session, trunk=trunk, register=False) as endpoint:
            sink = await RtpSink.open()
            target = f"sip:shopper@{callee.address[0]}:{callee.address[1]}"
            placing = asyncio.create_task(endpoint.place_call(target))
            invite = await callee.request("INVITE")
            assert sdp_of(invite).media[0].codecs()[0].name == "PCMU"
            callee.send(
                build_response(invite, 407, to_tag="t1", headers=[_proxy_challenge()]),
                endpoint.address,
            )
            invite = await callee.request("INVITE")
            assert "Proxy-Authorization" in invite.headers
            callee.send(build_response(invite, 180, to_tag="t2"), endpoint.address)
            answer = build_response(
                invite,
                200,
                to_tag="t2",
                headers=[("Contact", f"<sip:shopper@{callee.address[0]}:{callee.address[1]}>")],
                body=offer(sink.port),
                content_type="application/sdp",
            )
            callee.send(answer, endpoint.address)
            call = await placing
            ack = await callee.request("ACK")
            assert ack.cseq.seq == invite.cseq.seq
            callee.send(answer, endpoint.address)  # the 200 again: the ACK must come again
            assert (await callee.request("ACK")).cseq.seq == invite.cseq.seq
            bye = await callee.request("BYE", wait=10)
            callee.send(build_response(bye, 200), endpoint.address)
            await call.wait()
            sink.close()
            voiced = [RtpPacket.parse(p).payload for p in sink.packets]
            loud = [p for p in voiced if max(p) - min(p) > 40]
            assert len(loud) > 50, "the greeting did not reach the callee"

    run(scenario)


def _proxy_challenge() -> tuple[str, str]:
    server = DigestServer("trunk.example", b"x" * 32, algorithms=("MD5",), proxy=True)
    return ("Proxy-Authenticate", str(server.challenges(0.0)[0]))


def test_an_outbound_call_that_is_refused_raises() -> None:
    async def scenario() -> None:
        async with agent() as endpoint:
            callee = await SipPeer.open()
            placing = asyncio.create_task(
                endpoint.place_call(f"sip:shopper@127.0.0.1:{callee.address[1]}")
            )
            invite = await callee.request("INVITE")
            callee.send(build_response(invite, 486, to_tag="busy"), endpoint.address)
            with pytest.raises(OutboundCallError) as failure:
                await placing
            assert failure.value.status == 486
            assert (await callee.request("ACK")).cseq.method == "ACK"

    run(scenario)


def test_registration_asks_again_for_the_registrars_minimum_lifetime() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        registrar = Registrar(grant=None, min_expires=600)
        transport, _ = await loop.create_datagram_endpoint(
            lambda: registrar, local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        trunk = SipTrunkSettings(
            registrar=f"sip:127.0.0.1:{port}", username="agent", password="pw", expires_s=60
        )
        async with agent(clock=FakeClock(0.0), trunk=trunk) as endpoint:
            registration = endpoint.registration
            assert registration is not None
            await asyncio.wait_for(registration.registered.wait(), 5)
            assert registration.registered_until == pytest.approx(600.0)
        asked = [r.headers.get("Expires") for r in registrar.registers]
        assert asked[:4] == ["60", "60", "600", "600"]  # challenged each time, then granted
        transport.close()

    run(scenario)


def test_a_finished_call_keeps_neither_its_session_nor_its_audio() -> None:
    """The endpoint keeps its last calls (their events, for tests and the CLI) but neither
    their sessions nor audio no one will hear (the rest of a reply the caller hung up on):
    a server runs for months."""
    sessions: list[weakref.ref[CallSession]] = []

    async def run_call(call: SipCall, playout: Playout, caller_id: str) -> None:
        asr, recorder = ScriptedAsr({0.0: "bye"}), ListRecorder()
        parts = CallParts(call, playout, EnergyVad(), asr, ToneTts(), EchoDialogue(), recorder)
        session = CallSession(SessionSettings(), parts, playout.clock)
        sessions.append(weakref.ref(session))
        await session.run()

    async def scenario() -> None:
        async with agent(run_call) as endpoint:
            peer = await SipPeer.open()
            sink = await RtpSink.open()
            dialogue, _ = await _call(endpoint, peer, sink.port)
            (call,) = endpoint.calls
            for _ in range(500):  # half a second into the greeting (1.75 s)
                if len(sink.packets) >= 25:
                    break
                await asyncio.sleep(0.02)
            dialogue.send(dialogue.request("BYE"))
            assert (await peer.response()).status == 200
            await call.wait()
            sink.close()
            assert list(endpoint.finished_calls) == [call]
            gc.collect()
            assert call.ended == "the caller hung up"
            assert [ref() for ref in sessions] == [None]
            assert not call.playout.pending, "the rest of the greeting is kept with the call"

    run(scenario)


def _proxied(request: SipRequest, caller: str) -> SipRequest:
    """`request` as a proxy forwards it: the peer's Via on top is the proxy's own, below it
    the caller's, stamped with the address the proxy saw it come from."""
    assert request.headers.fields[0][0] == "Via"
    caller_via = f"SIP/2.0/UDP 192.0.2.50:5080;branch=z9hG4bK{new_tag()};received={caller}"
    request.headers.fields.insert(1, ("Via", caller_via))
    return request


def test_through_a_trusted_proxy_the_caller_id_and_rate_limit_are_the_callers() -> None:
    async def scenario() -> None:
        session = Session()
        settings = SipSettings(listen_port=0, t1_ms=50, rate_limit_per_s=0.01, rate_limit_burst=2)
        proxies = proxy_networks(["127.0.0.1"])
        async with SipEndpoint(settings, RealClock(), CallLimiter(2), session, proxies) as line:
            proxy = await SipPeer.open()
            sink = await RtpSink.open()
            dialogue = Dialogue(proxy, line.address)
            invite = dialogue.request("INVITE", offer(sink.port), "application/sdp")
            _proxied(invite, "203.0.113.9")
            dialogue.send(invite)
            answer = await proxy.response()  # the replies go to the proxy
            assert answer.status == 200
            dialogue.to_tag = answer.to_addr.tag
            dialogue.send(dialogue.ack(invite, answer))
            await session.started.wait()
            assert session.calls[0].caller_id == "shopper@203.0.113.9"

            async def probe(caller: str) -> SipResponse:
                options = Dialogue(proxy, line.address)
                request = _proxied(options.request("OPTIONS"), caller)
                options.send(request)
                answer = await proxy.response()
                while answer.call_id != request.call_id:  # a copy of the 200 before our ACK
                    answer = await proxy.response()
                return answer

            # one caller's flood is refused; the proxy's other callers still get through
            assert [(await probe("203.0.113.7")).status for _ in range(2)] == [200, 200]
            refused = await probe("203.0.113.7")
            assert (refused.status, refused.reason) == (403, "Rate Limited")
            assert (await probe("203.0.113.8")).status == 200
            dialogue.send(dialogue.request("BYE"))

    run(scenario)
