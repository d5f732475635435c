"""WebRTC transport: signaling refusals over a real server on 127.0.0.1, and the audio paths."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import av
import numpy as np
import pytest
from aiortc.rtp import RtpPacket

from tests.fakes.stages import ScriptedAsr
from tests.transport.webrtc_support import (
    AiortcCaller,
    FakeAgent,
    agent_server,
    loopback_settings,
)
from voice_agent.agent.events import CallerSaid, StateChanged, TurnLatency, TurnState
from voice_agent.agent.playout import Playout
from voice_agent.audio import AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.bench.voices import EspeakVoice
from voice_agent.clock import FakeClock
from voice_agent.settings import ServerSettings, SessionSettings, Settings, WebRtcSettings
from voice_agent.transport.webrtc import (
    FRAME_SAMPLES,
    SignalingError,
    _InputTimeline,
    _LineTrack,
    _OpusTap,
    event_message,
    ice_configuration,
    page_command,
    validate_offer,
)

Post = Callable[[Any], Awaitable[tuple[int, dict[str, Any]]]]


def _with_server(
    check: Callable[[str, Post], Awaitable[None]], settings: Settings | None = None
) -> None:
    async def scenario() -> None:
        agent = FakeAgent(ScriptedAsr({0.0: "hello"}))
        async with agent_server(agent, settings) as (url, _), aiohttp.ClientSession() as http:

            async def post(body: Any) -> tuple[int, dict[str, Any]]:
                data = body if isinstance(body, bytes) else None
                json_body = None if isinstance(body, bytes) else body
                async with http.post(f"{url}/webrtc/offer", data=data, json=json_body) as r:
                    return r.status, await r.json()

            await check(url, post)

    asyncio.run(scenario())


async def _browser_like_offer() -> str:
    caller = AiortcCaller()
    try:
        return (await caller.offer())["sdp"]
    finally:
        await caller.close()


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"{not json", 400, "not JSON"),
        (b"\xff\xfe", 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"type": "answer", "sdp": "v=0"}', 400, '"type" must be "offer"'),
        (b'{"type": "offer"}', 400, '"sdp" must be a non-empty string'),
        (b'{"type": "offer", "sdp": 42}', 400, '"sdp" must be a non-empty string'),
        (b'{"type": "offer", "sdp": "hello"}', 400, "not SDP"),
        (
            b'{"type": "offer", "sdp": "v=0\\r\\nm=audio nine RTP/AVP x\\r\\n"}',
            400,
            "malformed SDP",
        ),
        (b'{"type": "offer", "sdp": "' + b"v=0\\r\\n" + b"a" * 40_000 + b'"}', 413, "bytes"),
        (b"[" * 50_000 + b"]" * 50_000, 400, "nested too deeply"),
        (b'{"type": "offer", "sdp": ' + b"9" * 5_000 + b"}", 400, "a number is too long"),
        (b'{"type": "offer", "sdp": ' + b'{"a":' * 20_000 + b"1" + b"}" * 20_001, 400, "nested"),
    ],
)
def test_malformed_offers_are_refused_with_a_clear_message(
    body: bytes, status: int, says: str
) -> None:
    async def check(url: str, post: Post) -> None:
        got, answer = await post(body)
        assert got == status
        assert says in answer["error"]

    _with_server(check)


def test_a_body_over_the_server_limit_is_refused() -> None:
    async def check(url: str, post: Post) -> None:
        status, _ = await post(b"x" * 300_000)
        assert status == 413

    _with_server(check)


def _drop_opus(sdp: str) -> str:
    opus = re.search(r"a=rtpmap:(\d+) opus/", sdp)
    assert opus is not None
    pt = opus.group(1)
    attribute = re.compile(rf"a=(rtpmap|fmtp|rtcp-fb):{pt}\b")
    lines = [line for line in sdp.split("\r\n") if not attribute.match(line)]
    return "\r\n".join(re.sub(rf"^(m=audio \S+ \S+.*?) {pt}\b", r"\1", line) for line in lines)


@pytest.mark.parametrize(
    ("mutate", "status", "says"),
    [
        (_drop_opus, 415, "no Opus"),
        (lambda sdp: sdp.replace("a=sendrecv", "a=recvonly"), 400, "recvonly"),
        (lambda sdp: sdp.replace("m=audio", "m=video"), 400, "only audio"),
        (lambda sdp: re.sub(r"a=fingerprint:[^\r]*\r\n", "", sdp), 400, "fingerprint"),
        (lambda sdp: re.sub(r"a=ice-pwd:[^\r]*\r\n", "", sdp), 400, "ICE credentials"),
    ],
)
def test_offers_without_what_a_call_needs_are_refused(
    mutate: Callable[[str], str], status: int, says: str
) -> None:
    async def check(url: str, post: Post) -> None:
        sdp = mutate(await _browser_like_offer())
        got, answer = await post({"type": "offer", "sdp": sdp})
        assert (got, says in answer["error"]) == (status, True), answer

    _with_server(check)


def test_an_offer_with_only_a_data_channel_is_refused_for_missing_audio() -> None:
    sdp = "\r\n".join(
        [
            "v=0",
            "o=- 1 1 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
            "c=IN IP4 127.0.0.1",
            "a=ice-ufrag:abcd",
            "a=ice-pwd:abcdefghijklmnopqrstuvwx",
            "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
            "a=setup:actpass",
            "a=sctp-port:5000",
            "",
        ]
    )
    with pytest.raises(SignalingError) as refused:
        validate_offer(json.dumps({"type": "offer", "sdp": sdp}).encode(), 32_768)
    assert refused.value.status == 400
    assert "no audio m-line" in refused.value.message


def test_a_good_offer_is_answered_with_opus_only_and_a_call_id() -> None:
    async def check(url: str, post: Post) -> None:
        status, answer = await post({"type": "offer", "sdp": await _browser_like_offer()})
        assert status == 200, answer
        assert answer["type"] == "answer" and len(answer["call_id"]) == 16
        audio = answer["sdp"].split("m=audio")[1].split("m=")[0]
        codecs = re.findall(r"a=rtpmap:\d+ ([^/]+)/", audio)
        assert codecs == ["opus"]
        assert "a=candidate:" in answer["sdp"] and "127.0.0.1" in answer["sdp"]

    _with_server(check)


def test_a_call_beyond_the_limit_is_answered_busy() -> None:
    settings = loopback_settings().model_copy(
        update={"session": SessionSettings(max_concurrent_calls=1)}
    )

    async def check(url: str, post: Post) -> None:
        first, _ = await post({"type": "offer", "sdp": await _browser_like_offer()})
        second, refusal = await post({"type": "offer", "sdp": await _browser_like_offer()})
        assert (first, second) == (200, 503)
        assert "busy" in refusal["error"]

    _with_server(check, settings)


def test_an_offer_to_a_draining_server_is_refused_503_with_retry_after() -> None:
    settings = loopback_settings().model_copy(update={"server": ServerSettings(retry_after_s=20)})

    async def scenario() -> None:
        agent = FakeAgent(ScriptedAsr({}))
        async with agent_server(agent, settings) as (url, gateway), aiohttp.ClientSession() as http:
            gateway.limiter.drain()
            offer = {"type": "offer", "sdp": await _browser_like_offer()}
            async with http.post(f"{url}/webrtc/offer", json=offer) as refused:
                assert (refused.status, refused.headers["Retry-After"]) == (503, "20")
                error = (await refused.json())["error"]
        assert "shutting down" in error and "20 seconds" in error
        assert agent.transports == []

    asyncio.run(scenario())


class _SlowToWindDown(FakeAgent):
    """A session that, once the caller has gone, takes a while to store and wind down."""

    def __init__(self) -> None:
        super().__init__(ScriptedAsr({}))
        self.caller_gone = asyncio.Event()

    async def run_call(self, transport: Any, playout: Playout, caller_id: str) -> None:
        async for _ in transport.inputs():
            pass
        self.caller_gone.set()
        await asyncio.sleep(2.0)


def test_the_line_is_free_as_soon_as_the_caller_hangs_up() -> None:
    settings = loopback_settings().model_copy(
        update={"session": SessionSettings(max_concurrent_calls=1)}
    )
    agent = _SlowToWindDown()

    async def scenario() -> None:
        async with agent_server(agent, settings) as (url, gateway), aiohttp.ClientSession() as http:

            async def offer() -> int:
                body = {"type": "offer", "sdp": await _browser_like_offer()}
                async with http.post(f"{url}/webrtc/offer", json=body) as response:
                    return response.status

            assert await offer() == 200
            gateway.active[0].end("caller hung up")
            await asyncio.wait_for(agent.caller_gone.wait(), 5)
            assert await offer() == 200  # not 503 while the first session winds down

    asyncio.run(scenario())


def test_cors_lets_allowed_shops_call_and_refuses_others() -> None:
    settings = Settings(
        webrtc=WebRtcSettings(loopback_only=True, allowed_origins=("https://shop.example",))
    )

    async def check(url: str, post: Post) -> None:
        async with aiohttp.ClientSession() as http:
            headers = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
            async with http.options(f"{url}/webrtc/offer", headers=headers) as preflight:
                assert preflight.status == 204
                assert preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example"
            offer = {"type": "offer", "sdp": "v=0"}
            headers = {"Origin": "https://elsewhere.example"}
            async with http.post(f"{url}/webrtc/offer", json=offer, headers=headers) as refused:
                assert refused.status == 403
                assert "elsewhere.example" in (await refused.json())["error"]

    _with_server(check, settings)


def test_by_default_only_the_agents_own_page_may_place_calls() -> None:
    async def check(url: str, post: Post) -> None:
        offer = {"type": "offer", "sdp": "v=0"}
        async with aiohttp.ClientSession() as http:
            headers = {"Origin": "https://any.example", "Access-Control-Request-Method": "POST"}
            async with http.options(f"{url}/webrtc/offer", headers=headers) as preflight:
                assert "Access-Control-Allow-Origin" not in preflight.headers
            headers = {"Origin": "https://any.example"}
            async with http.post(f"{url}/webrtc/offer", json=offer, headers=headers) as refused:
                assert refused.status == 403
                assert "Access-Control-Allow-Origin" not in refused.headers
            async with http.post(f"{url}/webrtc/offer", json=offer, headers={"Origin": url}) as own:
                assert own.status == 400  # past the origin check: "v=0" alone is no offer
                assert "no audio m-line" in (await own.json())["error"]

    _with_server(check, Settings(webrtc=WebRtcSettings(loopback_only=True)))


def test_any_origin_only_when_the_operator_says_so() -> None:
    settings = Settings(webrtc=WebRtcSettings(loopback_only=True, allowed_origins=("*",)))

    async def check(url: str, post: Post) -> None:
        async with aiohttp.ClientSession() as http:
            headers = {"Origin": "https://any.example", "Access-Control-Request-Method": "POST"}
            async with http.options(f"{url}/webrtc/offer", headers=headers) as preflight:
                assert preflight.headers["Access-Control-Allow-Origin"] == "*"

    _with_server(check, settings)


def test_the_page_and_the_embeddable_script_are_served() -> None:
    async def check(url: str, post: Post) -> None:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/") as page:
                assert page.status == 200
                assert '<script src="/widget.js"></script>' in await page.text()
            async with http.get(f"{url}/widget.js") as script:
                assert script.status == 200
                assert "/webrtc/offer" in await script.text()
            async with http.get(f"{url}/webrtc/config") as config:
                assert (await config.json()) == {"iceServers": []}

    _with_server(check)


# --- the audio paths -----------------------------------------------------------------------


def _opus_packets(speech: AudioFrame) -> list[RtpPacket]:
    """Speech as a browser sends it: Opus at 48 kHz, 20 ms per RTP packet."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = 48_000
    encoder.layout = "mono"
    encoder.format = "s16"
    encoder.bit_rate = 48_000
    audio = resample(speech, 48_000).samples
    packets: list[RtpPacket] = []
    for index in range(len(audio) // 960):
        frame = av.AudioFrame.from_ndarray(
            audio[index * 960 : (index + 1) * 960].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = 48_000
        frame.pts = index * 960
        for encoded in encoder.encode(frame):
            packets.append(
                RtpPacket(
                    payload_type=111,
                    sequence_number=(65_530 + len(packets)) % 65_536,
                    timestamp=len(packets) * 960,
                    payload=bytes(encoded),
                )
            )
    return packets


def _lag_and_similarity(sent: np.ndarray, got: np.ndarray) -> tuple[int, float]:
    a = sent.astype(np.float64)
    b = got[: len(a)].astype(np.float64)
    correlation = np.correlate(b, a[: len(a) - 800], mode="valid")
    lag = int(np.argmax(correlation))
    aligned = b[lag : lag + len(a) - 800]
    similarity = float(
        np.dot(aligned, a[: len(aligned)])
        / (np.linalg.norm(aligned) * np.linalg.norm(a[: len(aligned)]))
    )
    return lag, similarity


def test_the_callers_opus_is_decoded_on_arrival_into_contiguous_20ms_frames() -> None:
    speech = EspeakVoice("en-us+m7").speak("Hello, I would like to know where my parcel is.")
    clock = FakeClock(50.0)
    frames: list[AudioFrame] = []
    timeline = _InputTimeline(clock, frames.append)
    tap = _OpusTap(timeline.add, clock)
    packets = _opus_packets(speech)
    delivered_after: list[int] = []
    for packet in packets:
        clock.advance(0.02)
        assert tap.add(packet) == (False, None)  # aiortc's own decoder is never fed
        delivered_after.append(len(frames))
    # each packet's audio is out as soon as it arrived (no prefetch): one frame per packet
    assert delivered_after == list(range(1, len(packets) + 1))
    assert all(len(frame.samples) == FRAME_SAMPLES for frame in frames)
    starts = np.array([frame.timestamp for frame in frames])
    assert np.allclose(np.diff(starts), 0.02)
    assert abs(frames[-1].end - clock.now()) < 0.002  # audio ends when it arrived
    got = AudioFrame.concat(frames).samples
    lag, similarity = _lag_and_similarity(speech.samples[: len(got)], got)
    assert lag <= 16 * 8  # the resampler's delay is about 1 ms; Opus adds 6.5 ms
    assert similarity > 0.9


def test_lost_packets_become_silence_and_late_ones_are_dropped() -> None:
    speech = EspeakVoice("en-gb-scotland+f2").speak("My parcel has not arrived.")
    clock = FakeClock(0.0)
    frames: list[AudioFrame] = []
    tap = _OpusTap(_InputTimeline(clock, frames.append).add, clock)
    packets = _opus_packets(speech)
    # 10 is lost; 11 comes after 12, too late for its moment
    order = [*range(10), 12, 11, *range(13, len(packets))]
    for index in order:
        clock.advance(0.02)
        tap.add(packets[index])
    assert (tap.lost, tap.late) == (2, 1)
    # the gap is filled with silence: the session's timeline has no hole
    assert len(frames) == len(packets)
    assert np.allclose(np.diff([frame.timestamp for frame in frames]), 0.02)
    assert not np.any(frames[10].samples) and not np.any(frames[11].samples)


def test_the_line_sends_what_the_playout_holds_and_silence_once_cleared() -> None:
    speech = EspeakVoice("en-us").speak("Your parcel is out for delivery today.")
    decoder = av.CodecContext.create("libopus", "r")

    def heard(packet: Any) -> float:
        decoded = [f.to_ndarray().reshape(-1) for f in decoder.decode(av.Packet(bytes(packet)))]
        return float(np.sqrt(np.mean(np.square(np.concatenate(decoded).astype(np.float64)))))

    async def scenario() -> tuple[list[float], list[int]]:
        clock = FakeClock(10.0)
        playout = Playout(clock)
        line = _LineTrack(playout, clock, 32_000)
        playout.begin_reply(["Your parcel is out for delivery today."])
        playout.write(speech, 0)
        levels: list[float] = []
        timestamps: list[int] = []
        for index in range(30):
            if index == 15:
                playout.clear()  # barge-in: the session clears the playout (and the transport)
            receiving = asyncio.create_task(line.recv())
            await asyncio.sleep(0)
            clock.advance(0.02)
            packet = await receiving
            timestamps.append(int(packet.pts or 0) * 3)  # aiortc sends it in 48 kHz units
            levels.append(heard(packet))
        return levels, timestamps

    levels, timestamps = asyncio.run(scenario())
    assert sum(level > 300 for level in levels[:15]) >= 12  # speech (with a pause or two)
    assert max(levels[17:]) < 30  # one packet of codec tail at most, then silence
    assert np.all(np.diff(timestamps) == 960)


def test_events_reach_the_page_as_json_with_call_relative_times() -> None:
    assert event_message(StateChanged(12.5, TurnState.SPEAKING), 10.0) == {
        "type": "state",
        "at": 2.5,
        "state": "speaking",
    }
    assert event_message(CallerSaid(11.0, "where is my order"), 10.0)["text"] == "where is my order"
    latency = event_message(TurnLatency(13.0, {"first_audio_sent": 312.0}), 10.0)
    assert latency == {"type": "latency", "at": 3.0, "marks_ms": {"first_audio_sent": 312.0}}


def test_no_ice_servers_configured_means_none_not_a_public_default() -> None:
    # aiortc reads iceServers=None as "use stun.l.google.com": an empty setting must stay empty
    empty = ice_configuration(WebRtcSettings())
    assert empty.iceServers == []
    stun = WebRtcSettings.model_validate({"ice_servers": [{"urls": ["stun:stun.example.com"]}]})
    assert [server.urls for server in ice_configuration(stun).iceServers or []] == [
        ["stun:stun.example.com"]
    ]


@pytest.mark.parametrize(
    ("message", "command"),
    [
        ('{"type": "hangup"}', "hangup"),
        ('{"type": "dance"}', None),
        ("[1, 2]", None),
        ("not json", None),
        (b'{"type": "hangup"}', None),  # binary: never a command
        ('{"type": ' + "9" * 5_000 + "}", None),  # found by fuzzing: a bare ValueError before
    ],
)
def test_the_page_sends_only_hangup_and_anything_else_is_ignored(
    message: object, command: str | None
) -> None:
    assert page_command(message) == command


@pytest.fixture(scope="module")
def browser_offer() -> str:
    return asyncio.run(_browser_like_offer())


def _without_last(pattern: str) -> Callable[[str], str]:
    """The offer without the lines starting with `pattern` in its last m-line that has any."""

    def mutate(sdp: str) -> str:
        sections = re.split(r"(?=\r\nm=)", sdp)
        last = max(n for n, section in enumerate(sections) if re.search(pattern, section))
        sections[last] = re.sub(pattern + r"[^\r]*\r\n", "", sections[last])
        return "".join(sections)

    return mutate


# found by fuzzing: each of these passed validate_offer, then aiortc failed on it with its
# internals ("'NoneType' object has no attribute 'role'", "None is not in list", ...)
@pytest.mark.parametrize(
    ("mutate", "status", "says"),
    [
        (_without_last("a=rtcp-mux"), 400, "the offer's audio does not multiplex RTCP"),
        (_without_last("a=setup:"), 400, "the offer's application m-line has no DTLS role"),
        (_without_last("a=fingerprint:"), 400, "application m-line has no DTLS fingerprint"),
        (_without_last("a=ice-pwd:"), 400, "application m-line has no ICE credentials"),
        (_without_last("a=mid:"), 400, "the offer's application m-line has no media id"),
        (_without_last("a=sendrecv"), 400, "the offer's audio has no direction"),
        (
            lambda sdp: sdp.replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 7"),
            400,
            "the offer's a=group:BUNDLE names no m-line's a=mid: ['7']",
        ),
        (
            lambda sdp: re.sub(r"(a=msid:\S+) \S+", r"\1 ", sdp),
            400,
            "the offer's audio m-line's a=msid is not a stream id and a track id",
        ),
        (lambda sdp: sdp.replace("opus/48000/2", "opus/4"), 415, "not opus/48000/2"),
    ],
)
def test_an_offer_aiortc_cannot_answer_is_refused_saying_what_is_missing(
    browser_offer: str, mutate: Callable[[str], str], status: int, says: str
) -> None:
    sdp = mutate(browser_offer)
    assert sdp != browser_offer
    with pytest.raises(SignalingError) as refused:
        validate_offer(json.dumps({"type": "offer", "sdp": sdp}).encode(), 32_768)
    assert refused.value.status == status
    assert says in refused.value.message
