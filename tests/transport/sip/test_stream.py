"""The phone line over TCP and TLS (transport/sip/stream.py) with Python clients on 127.0.0.1:
framing, answers on the caller's connection, SRTP media keyed over TLS, bad certificates."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.transport.sip.support import RtpSink, Session
from tests.transport.sip.tls_support import StreamPeer, self_signed_certificate
from voice_agent.agent.limits import CallLimiter
from voice_agent.agent.playout import Playout
from voice_agent.clock import RealClock
from voice_agent.protocol.rtp import RtpPacket, RtpSender
from voice_agent.protocol.sdp import PCMU, AudioParameters, Direction, SessionDescription
from voice_agent.protocol.sdp_crypto import CryptoAttribute, SrtpKeys
from voice_agent.protocol.sip.message import SipRequest, new_branch, new_call_id
from voice_agent.settings import SipSettings
from voice_agent.transport.sip import CallRunner, SipCall
from voice_agent.transport.sip.stream import SipStreamEndpoint, SipTlsError
from voice_agent.transport.srtp import SrtpContext, SrtpError

CALLER_KEY = bytes(range(30))


@asynccontextmanager
async def stream_agent(
    tls: bool, directory: Path, session: CallRunner | None = None, **settings: Any
) -> AsyncIterator[SipStreamEndpoint]:
    values: dict[str, Any] = {"listen_port": 0, "t1_ms": 50, **settings}
    if tls:
        cert, key = self_signed_certificate(directory)
        values |= {"tls_port": 0, "tls_certificate": str(cert), "tls_private_key": str(key)}
    endpoint = SipStreamEndpoint(
        SipSettings(**values), RealClock(), CallLimiter(2), session or Session(), tls=tls
    )
    await endpoint.start()
    try:
        yield endpoint
    finally:
        await endpoint.aclose()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 60))


def request(
    peer: StreamPeer,
    agent_port: int,
    method: str,
    transport: str,
    *,
    call_id: str = "",
    from_tag: str = "caller",
    to_tag: str | None = None,
    seq: int = 1,
    body: bytes = b"",
) -> SipRequest:
    host, port = peer.address
    to = f"<sip:agent@127.0.0.1:{agent_port}>" + (f";tag={to_tag}" if to_tag else "")
    fields = [
        ("Via", f"SIP/2.0/{transport} {host}:{port};branch={new_branch()};rport"),
        ("Max-Forwards", "70"),
        ("From", f"<sip:shopper@{host}:{port}>;tag={from_tag}"),
        ("To", to),
        ("Call-ID", call_id or new_call_id(host)),
        ("CSeq", f"{seq} {method}"),
        ("Contact", f"<sip:shopper@{host}:{port};transport={transport.lower()}>"),
    ]
    if body:
        fields.append(("Content-Type", "application/sdp"))
    return SipRequest.create(method, f"sip:agent@127.0.0.1:{agent_port}", fields, body)


def srtp_offer(rtp_port: int) -> bytes:
    lines = [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        f"m=audio {rtp_port} RTP/SAVP 0",
        "a=rtpmap:0 PCMU/8000",
        f"a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:{base64.b64encode(CALLER_KEY).decode()}",
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_options_over_tls_is_answered_on_the_callers_connection(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with stream_agent(True, tmp_path) as endpoint:
            peer = await StreamPeer.connect(endpoint.address[1], trust=tmp_path / "sip.crt")
            peer.send(request(peer, endpoint.address[1], "OPTIONS", "TLS"))
            response = await peer.response()
            assert response.status == 200
            assert response.top_via.transport == "TLS"
            await peer.aclose()

    run(scenario)


def test_tcp_frames_split_and_joined_messages_and_answers_keepalives(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with stream_agent(False, tmp_path, tcp_port=0) as endpoint:
            port = endpoint.address[1]
            peer = await StreamPeer.connect(port)
            first = bytes(request(peer, port, "OPTIONS", "TCP", seq=1))
            second = bytes(request(peer, port, "OPTIONS", "TCP", seq=2))
            peer.send(first[:30])
            await asyncio.sleep(0.05)
            peer.send(first[30:] + second + b"\r\n\r\n")
            answers = [await peer.response(), await peer.response()]
            assert [a.cseq.seq for a in answers] == [1, 2]
            assert all(a.status == 200 for a in answers)
            await peer.aclose()

    run(scenario)


def test_a_stream_without_content_length_is_closed_and_the_line_still_answers(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with stream_agent(False, tmp_path, tcp_port=0) as endpoint:
            port = endpoint.address[1]
            broken = await StreamPeer.connect(port)
            options = bytes(request(broken, port, "OPTIONS", "TCP"))
            assert b"Content-Length: 0\r\n" in options
            broken.send(options.replace(b"Content-Length: 0\r\n", b""))
            assert await broken.closed()
            peer = await StreamPeer.connect(port)
            peer.send(request(peer, port, "OPTIONS", "TCP"))
            assert (await peer.response()).status == 200
            await peer.aclose()

    run(scenario)


def test_a_call_over_tls_with_srtp_both_ways_and_the_agents_bye_on_the_connection(
    tmp_path: Path,
) -> None:
    async def hang_up_after_some_audio(call: SipCall, playout: Playout, frames: int) -> None:
        if frames == 25:
            await call.hang_up()

    async def scenario() -> None:
        session = Session(action=hang_up_after_some_audio)
        async with stream_agent(True, tmp_path, session) as endpoint:
            port = endpoint.address[1]
            peer = await StreamPeer.connect(port, trust=tmp_path / "sip.crt")
            sink = await RtpSink.open()
            call_id = new_call_id("127.0.0.1")
            invite = request(
                peer, port, "INVITE", "TLS", call_id=call_id, body=srtp_offer(sink.port)
            )
            peer.send(invite)
            answer = await peer.response()
            assert answer.status == 200, answer
            assert answer.contacts[0].uri.params.get("transport") == "tls"
            [media] = SessionDescription.parse(answer.body).media
            assert media.protocol == "RTP/SAVP"
            theirs = CryptoAttribute.parse(media.attribute("crypto") or "")
            assert theirs is not None and theirs.tag == 7
            ack = request(peer, port, "ACK", "TLS", call_id=call_id, to_tag=answer.to_addr.tag)
            peer.send(ack)

            caller = SrtpContext(SrtpKeys(theirs.suite, CALLER_KEY, theirs.key))
            agent_rtp = ("127.0.0.1", media.port)
            sender = RtpSender(0)
            for _ in range(60):  # 1.2 s of the caller's speech (silence), protected
                sink.send(caller.protect(bytes(sender.audio(b"\xff" * 160, 160))), agent_rtp)
                await asyncio.sleep(0.02)
                if session.calls and session.calls[0].ended:
                    break
            bye = await peer.request("BYE")
            assert bye.top_via.transport == "TLS"
            assert session.frames, "the agent decoded none of the caller's SRTP"
            assert sink.packets, "no SRTP reached the caller"
            for packet in sink.packets[:10]:
                assert RtpPacket.parse(caller.unprotect(packet)).payload_type == 0
            with pytest.raises(SrtpError):  # they were protected: plain RTP would not pass
                SrtpContext(SrtpKeys(theirs.suite, CALLER_KEY, bytes(30))).unprotect(
                    sink.packets[-1]
                )
            sink.close()
            await peer.aclose()

    run(scenario)


def test_a_missing_certificate_is_a_clear_error_at_start(tmp_path: Path) -> None:
    settings = SipSettings(
        tls_port=5061,
        tls_certificate=str(tmp_path / "nowhere.crt"),
        tls_private_key=str(tmp_path / "nowhere.key"),
    )
    with pytest.raises(SipTlsError, match=r"nowhere\.crt"):
        SipStreamEndpoint(settings, RealClock(), CallLimiter(1), Session(), tls=True)


def test_tls_without_a_certificate_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match="tls_port needs tls_certificate and tls_private_key"):
        SipSettings(tls_port=5061)


def test_a_tls_client_that_does_not_trust_the_certificate_gets_no_answer(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with stream_agent(True, tmp_path) as endpoint:
            other = tmp_path / "other"
            other.mkdir()
            untrusted, _ = self_signed_certificate(other)
            with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
                await StreamPeer.connect(endpoint.address[1], trust=untrusted)

    run(scenario)


@pytest.mark.parametrize(("tls", "warned"), [(False, True), (True, False)])
def test_srtp_keys_agreed_outside_tls_are_warned_about(
    tls: bool, warned: bool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    values: dict[str, Any] = {}
    if tls:
        cert, key = self_signed_certificate(tmp_path)
        values = {"tls_certificate": str(cert), "tls_private_key": str(key)}
    endpoint = SipStreamEndpoint(
        SipSettings(**values), RealClock(), CallLimiter(1), Session(), tls=tls
    )
    params = AudioParameters(
        "127.0.0.1",
        10_000,
        PCMU,
        None,
        20,
        Direction.SENDRECV,
        srtp=SrtpKeys("AES_CM_128_HMAC_SHA1_80", CALLER_KEY, CALLER_KEY),
    )
    with caplog.at_level(logging.WARNING):
        endpoint.new_rtp(params, "call-1")
    assert ("SRTP keys were exchanged over TCP, in clear" in caplog.text) is warned
