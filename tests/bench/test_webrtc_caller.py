"""The benchmark's WebRTC caller against our agent (fake stages) and the calibration fake."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from functools import cache

import numpy as np
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtp import RtpPacket

from tests.fakes.stages import ScriptedAsr
from tests.transport.webrtc_support import FakeAgent, agent_server, loopback_settings
from voice_agent.audio import AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.bench.fake_webrtc import fake_webrtc_agent
from voice_agent.bench.relay import profile_named
from voice_agent.bench.responder import LOUD_LEVEL, Delays, KnownDelayResponder, Mode
from voice_agent.bench.timeline import CallRecording, HeardPacket
from voice_agent.bench.voices import EspeakVoice
from voice_agent.bench.webrtc_caller import (
    ArrivalTap,
    WebRtcCall,
    WebRtcCallError,
    offer_endpoint,
    opus_encoder,
    webrtc_call,
)
from voice_agent.transport.webrtc import OPUS_RATE

REPLY_DELAY_S = 0.25


@cache
def _question() -> AudioFrame:
    return EspeakVoice("en-us").speak("Where is my order")


@cache
def _reply_voice() -> AudioFrame:
    return EspeakVoice("en-gb+f3").speak("It is on its way")


async def _until(condition: Callable[[], bool], what: str, limit_s: float = 15.0) -> None:
    """Poll: the recording grows without telling anyone (as the benchmark reads it)."""
    try:
        async with asyncio.timeout(limit_s):
            while True:
                if condition():
                    return
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"gave up waiting for {what}") from None


def _event_count(call: WebRtcCall, kind: str) -> int:
    return sum(event.get("type") == kind for event in call.events)


def _heard_loud_after(recording: CallRecording, after: float) -> float | None:
    """When the first loud sample heard after `after` arrived (arrival mode)."""
    for packet in sorted(recording.heard, key=lambda p: p.at):
        loud = np.nonzero(np.abs(packet.samples.astype(np.int32)) > LOUD_LEVEL)[0]
        for index in loud:
            at = packet.at + int(index) / packet.rate
            if at > after:
                return at
    return None


def _speech_end(call: WebRtcCall, speech: AudioFrame, utterance: int) -> float:
    """When the caller's last loud sample of the utterance went out."""
    line = resample(speech, OPUS_RATE).samples
    last = int(np.nonzero(np.abs(line.astype(np.int32)) > LOUD_LEVEL)[0][-1])
    sent = call.recording.utterance_time(utterance, last)
    assert sent is not None, "the utterance's last loud sample was never sent"
    return sent + 1 / OPUS_RATE


# --- decoding on arrival ----------------------------------------------------------------------


def _opus_packets(speech: AudioFrame, first_timestamp: int) -> list[RtpPacket]:
    """Speech as a sender puts it on the wire: Opus, 20 ms per RTP packet."""
    line = resample(speech, OPUS_RATE).samples
    encoder = opus_encoder()
    packets: list[RtpPacket] = []
    for index in range(len(line) // 960):
        payload = bytes(encoder.encode(line[index * 960 : (index + 1) * 960], index))
        timestamp = (first_timestamp + index * 960) % (1 << 32)
        packets.append(RtpPacket(111, sequence_number=index, timestamp=timestamp, payload=payload))
    return packets


def test_each_packet_is_heard_when_it_arrives_at_its_media_time_and_losses_leave_gaps() -> None:
    now = [100.0]
    heard: list[HeardPacket] = []
    tap = ArrivalTap(heard.append, now=lambda: now[0])
    # the RTP timestamp wraps around 2^32 after the third packet
    packets = _opus_packets(_question(), first_timestamp=(1 << 32) - 3 * 960)
    # 5 is lost, 7 arrives twice, 9 comes after 10
    order = [0, 1, 2, 3, 4, 6, 7, 7, 8, 10, 9, *range(11, len(packets))]
    for index in order:
        now[0] += 0.02
        assert tap.add(packets[index]) == (False, None)  # aiortc's own decoder stays idle
    media = [round(packet.media_s / 0.02) for packet in heard]
    assert media == [0, 1, 2, 3, 4, 6, 7, 8, 10, 9, *range(11, len(packets))]
    assert [packet.at for packet in heard[:3]] == pytest.approx([100.02, 100.04, 100.06])
    assert all(packet.rate == OPUS_RATE and len(packet.samples) == 960 for packet in heard)
    assert max(np.abs(packet.samples).max() for packet in heard) > 3000  # the speech


# --- our agent (fake stages) -----------------------------------------------------------------


def test_a_call_to_our_agent_records_speech_sent_audio_heard_and_its_latency_marks() -> None:
    agent = FakeAgent(ScriptedAsr({0.0: "where is my order"}))

    async def scenario() -> WebRtcCall:
        async with asyncio.timeout(30), agent_server(agent) as (base_url, _gateway):
            async with webrtc_call(base_url) as call:
                assert call.call_id
                await _until(lambda: _event_count(call, "agent_stopped") >= 1, "the greeting")
                call.microphone.say(_question(), utterance=0)
                await _until(lambda: bool(call.recording.stage_marks), "a latency event")
            return call

    call = asyncio.run(scenario())
    recording = call.recording
    spans = [span for frame in recording.sent for span in frame.spans]
    assert {span.utterance for span in spans} == {0}
    assert sum(span.length for span in spans) == len(resample(_question(), OPUS_RATE).samples)
    assert all(frame.rate == OPUS_RATE and len(frame.samples) == 960 for frame in recording.sent)
    media = [packet.media_s for packet in recording.heard]
    assert len(media) > 50 and np.all(np.diff(media) > 0)
    assert any(np.abs(packet.samples).max() > 1000 for packet in recording.heard)  # the tone
    assert "first_audio_sent" in recording.stage_marks[0].marks_ms
    assert recording.ended_at is not None and recording.ended_at >= recording.sent[-1].at
    assert call.ended.is_set() and call.relay_stats() is None


def test_a_caller_that_vanishes_says_no_goodbye_and_the_agent_times_it_out() -> None:
    agent = FakeAgent(ScriptedAsr({0.0: "where is my order"}))
    settings = loopback_settings(media_timeout_s=1.0)

    async def scenario() -> str:
        async with asyncio.timeout(30), agent_server(agent, settings) as (base_url, gateway):
            relay = profile_named("cross-border")
            async with webrtc_call(base_url, relay_profile=relay) as call:
                await _until(lambda: _event_count(call, "agent_stopped") >= 1, "the greeting")
                call.vanish()
                await _until(lambda: bool(gateway.finished), "the agent to end the call")
            return gateway.finished[0].end_reason

    # not "caller hung up" (the goodbye on the data channel) nor a closed connection
    assert asyncio.run(scenario()) == "the browser stopped sending audio"


# --- the calibration fake ----------------------------------------------------------------------


def _reply_factory() -> Callable[[], KnownDelayResponder]:
    def make() -> KnownDelayResponder:
        return KnownDelayResponder(
            Mode.REPLY, Delays(REPLY_DELAY_S), _reply_voice(), rate=OPUS_RATE
        )

    return make


@pytest.mark.parametrize("language", ["de", "pt", None])
def test_a_call_hints_its_language_to_our_agent_as_the_web_page_does(
    language: str | None,
) -> None:
    agent = FakeAgent(ScriptedAsr({}))

    async def scenario() -> None:
        async with (
            asyncio.timeout(30),
            agent_server(agent) as (base_url, _gateway),
            webrtc_call(base_url, language=language) as call,
        ):
            await _until(lambda: _event_count(call, "agent_stopped") >= 1, "the greeting")

    asyncio.run(scenario())
    (transport,) = agent.transports
    assert getattr(transport, "language_hint", "none kept") == language


def test_the_hint_goes_on_our_offer_and_a_generic_agent_is_never_sent_one() -> None:
    base = "http://127.0.0.1:8080/"
    assert offer_endpoint(base, "voice-agent") == "http://127.0.0.1:8080/webrtc/offer"
    assert offer_endpoint(base, "voice-agent", "es") == "http://127.0.0.1:8080/webrtc/offer?lang=es"
    assert offer_endpoint("http://h/api/offer", "generic") == "http://h/api/offer"
    with pytest.raises(ValueError, match="generic signaling carries no language hint"):
        offer_endpoint("http://h/api/offer", "generic", "fr")


async def _one_reply(call: WebRtcCall) -> float:
    """Say the question, wait for the reply to be heard; the caller-measured delay (s)."""
    await asyncio.sleep(0.2)  # a little silence first, as a caller would
    call.microphone.say(_question(), utterance=0)
    await _until(lambda: not call.microphone.speaking, "the question to be said")
    speech_end = _speech_end(call, _question(), 0)
    await _until(
        lambda: _heard_loud_after(call.recording, speech_end) is not None, "the fake's reply"
    )
    heard = _heard_loud_after(call.recording, speech_end)
    assert heard is not None
    return heard - speech_end


@pytest.mark.parametrize("signaling", ["voice-agent", "generic"])
def test_the_caller_measures_the_calibration_agents_known_delay(signaling: str) -> None:
    async def scenario() -> tuple[float, list[float]]:
        async with asyncio.timeout(30), fake_webrtc_agent(_reply_factory()) as fake:
            if signaling == "voice-agent":
                calling = webrtc_call(fake.url)
            else:
                calling = webrtc_call(fake.generic_url, signaling="generic")
            async with calling as call:
                assert (call.call_id is not None) == (signaling == "voice-agent")
                measured = await _one_reply(call)
            return measured, fake.responders[0].applied_s

    measured, applied = asyncio.run(scenario())
    print(f"{signaling}: caller-measured {measured * 1000:.1f} ms, configured {applied}")
    assert applied == [REPLY_DELAY_S]
    # a sanity check of the plumbing on a loaded machine, not a performance figure: the
    # responder decides the caller has finished after 300 ms of quiet, so 250 ms turns into
    # ~300 ms; loopback, Opus and decoding on arrival add a few ms more
    assert REPLY_DELAY_S <= measured <= 0.45


def test_through_the_cross_border_relay_the_reply_is_heard_late_and_with_losses() -> None:
    async def scenario() -> tuple[float, dict[str, float] | None, CallRecording]:
        async with asyncio.timeout(30), fake_webrtc_agent(_reply_factory()) as fake:
            async with webrtc_call(fake.url, relay_profile=profile_named("cross-border")) as call:
                measured = await _one_reply(call)
                await asyncio.sleep(1.0)  # a few more windows of the relay's losses
            return measured, call.relay_stats(), call.recording

    measured, stats, recording = asyncio.run(scenario())
    print(f"cross-border: caller-measured {measured * 1000:.1f} ms, relay {stats}")
    assert stats is not None
    for direction in ("to_agent", "to_caller"):
        assert stats[f"{direction}_media_packets"] > 100
        assert stats[f"{direction}_dropped"] > 0
        assert 110 <= stats[f"{direction}_delay_mean_ms"] <= 190  # 150 ± 40 ms one way
    # the profile's 150 ms each way comes on top of the fake's reply
    assert REPLY_DELAY_S + 0.2 <= measured <= REPLY_DELAY_S + 0.2 + 0.45
    # the packets the relay lost are gaps in the heard media time, not silence made up
    steps = np.round(np.diff([packet.media_s for packet in recording.heard]) / 0.02)
    assert np.any(steps >= 2)


async def _answer_nobody_listens_to(request: web.Request) -> web.Response:
    """A well-formed answer from a peer connection that is closed at once: no media ever."""
    offer = await request.json()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    await pc.close()
    return web.json_response({"type": "answer", "sdp": pc.localDescription.sdp})


# --- refusals --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _serving(answer: Handler) -> AsyncIterator[str]:
    """A server that answers every offer with `answer`: its base URL."""
    web_app = web.Application()
    web_app.router.add_post("/webrtc/offer", answer)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, '{"error": "the offer has no audio"}', "refused the offer: HTTP 400"),
        (200, "<html>a web page</html>", "answered HTTP 200 without a JSON"),
        (200, '{"type": "answer"}', "answered HTTP 200 without a JSON"),
    ],
)
def test_an_offer_refused_or_answered_badly_says_where_and_why(
    status: int, body: str, message: str
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="application/json")

    async def scenario() -> str:
        async with asyncio.timeout(15), _serving(answer) as base_url:
            with pytest.raises(WebRtcCallError) as raised:
                async with webrtc_call(base_url):
                    pass
            return str(raised.value)

    error = asyncio.run(scenario())
    assert message in error and "/webrtc/offer" in error


def test_an_answered_call_whose_media_never_flows_says_so_in_time() -> None:
    async def scenario() -> str:
        async with asyncio.timeout(15), _serving(_answer_nobody_listens_to) as base_url:
            with pytest.raises(WebRtcCallError) as raised:
                async with webrtc_call(base_url, connect_timeout_s=1.0):
                    pass
            return str(raised.value)

    assert "media never flowed within 1 s" in asyncio.run(scenario())
