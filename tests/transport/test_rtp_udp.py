"""One call's RTP on a fake network in stepped time: real speech in and out, loss, DTMF, timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from tests.fakes.datagrams import Datagram, FakeNetwork, Recorder
from tests.protocol.fixtures import rtp_fixture
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import DtmfInput
from voice_agent.audio import AudioFrame
from voice_agent.audio.g711 import ulaw_decode, ulaw_encode
from voice_agent.audio.levels import rms_dbfs
from voice_agent.audio.resample import resample
from voice_agent.bench.voices import EspeakVoice
from voice_agent.clock import FakeClock
from voice_agent.protocol.dtmf import digit_packets
from voice_agent.protocol.rtp import RtpPacket, RtpSender
from voice_agent.protocol.sdp import PCMA, PCMU, TELEPHONE_EVENT, AudioParameters, Direction
from voice_agent.transport.rtp_udp import PhoneBand, RtpOptions, RtpSession

AGENT = ("127.0.0.1", 20000)
CALLER = ("127.0.0.1", 30000)
STEP = 0.001


def _params(
    codec: tuple[str, int] = ("PCMU", 0),
    direction: Direction = Direction.SENDRECV,
    remote: tuple[str, int] = CALLER,
) -> AudioParameters:
    return AudioParameters(
        remote_address=remote[0],
        remote_port=remote[1],
        codec=PCMU if codec[0] == "PCMU" else PCMA,
        telephone_event=TELEPHONE_EVENT,
        ptime=20,
        direction=direction,
    )


@dataclass
class Line:
    """An RTP session on a fake network, with a caller peer, driven in stepped time."""

    session: RtpSession
    clock: FakeClock
    network: FakeNetwork
    caller: Recorder
    playout: Playout
    inputs: list[AudioFrame | DtmfInput] = field(default_factory=list)
    closed_with: list[str] = field(default_factory=list)

    async def run(
        self,
        seconds: float,
        packets: list[tuple[float, bytes, tuple[str, int]]] = (),  # type: ignore[assignment]
        during: Callable[[float], None] | None = None,
    ) -> None:
        """Run the line for `seconds`, delivering each packet at its arrival time."""
        runner = asyncio.create_task(self.session.run())
        reader = asyncio.create_task(self._read())
        schedule = sorted(packets, key=lambda item: item[0])
        start = self.clock.now()
        while self.clock.now() - start < seconds and not self.session.closed:
            elapsed = self.clock.now() - start
            while schedule and schedule[0][0] <= elapsed + 1e-9:
                _, data, source = schedule.pop(0)
                self.session.datagram_received(data, source)
            if during is not None:
                during(elapsed)
            self.clock.advance(STEP)
            for _ in range(3):
                await asyncio.sleep(0)
        self.session.close("test over")
        await runner
        await reader

    async def _read(self) -> None:
        async for item in self.session.inputs():
            self.inputs.append(item)

    def frames(self) -> list[AudioFrame]:
        return [item for item in self.inputs if isinstance(item, AudioFrame)]

    def sent_packets(self) -> list[RtpPacket]:
        return [RtpPacket.parse(d.data) for d in self.network.sent if d.source == AGENT]


def _line(
    params: AudioParameters | None = None, timeout_s: float = 5.0, max_hold_s: float = 600.0
) -> Line:
    clock = FakeClock(100.0)
    playout = Playout(clock)
    options = RtpOptions(timeout_s=timeout_s, max_hold_s=max_hold_s)
    session = RtpSession(params or _params(), playout, clock, options)
    network = FakeNetwork()
    caller = Recorder()
    network.attach(session, AGENT)
    network.attach(caller, CALLER)
    line = Line(session, clock, network, caller, playout)
    session.on_close = line.closed_with.append
    return line


@pytest.fixture(scope="module")
def speech_8k() -> AudioFrame:
    return EspeakVoice("en-gb+f3").speak("My parcel never arrived, can you help me?", 8000)


def _caller_packets(
    audio: AudioFrame, start: float = 0.05, skip: frozenset[int] = frozenset()
) -> list[tuple[float, bytes, tuple[str, int]]]:
    """The caller's speech as PCMU packets of 20 ms, one every 20 ms from `start`."""
    sender = RtpSender(0, ssrc=0x1234, sequence=65530, timestamp=2**32 - 800)
    packets = []
    for index, chunk in enumerate(audio.chunks(0.02)):
        samples = np.pad(chunk.samples, (0, 160 - len(chunk.samples)))
        packet = sender.audio(ulaw_encode(samples), 160)
        if index not in skip:
            packets.append((start + index * 0.02, bytes(packet), CALLER))
    return packets


def _best_correlation(received: np.ndarray, reference: np.ndarray) -> float:
    """Peak normalised cross-correlation over lags (the line adds delay)."""
    received = received.astype(np.float64)
    reference = reference.astype(np.float64)
    if len(received) < len(reference):
        received = np.pad(received, (0, len(reference) - len(received)))
    full = np.correlate(received, reference, mode="valid")
    windows = np.convolve(received**2, np.ones(len(reference)), mode="valid")
    scores = full / np.sqrt(np.maximum(windows, 1e-9) * np.dot(reference, reference))
    return float(np.max(scores))


def _segment_match(received: np.ndarray, reference: np.ndarray, segment: int = 1600) -> float:
    """Median over the reference's voiced 100 ms segments of their best match in `received`,
    looked for near where the previous one matched (a jitter buffer may drop or hold a frame,
    which shifts the rest by 20 ms)."""
    scores = []
    for start in range(0, len(reference) - segment, segment):
        piece = reference[start : start + segment]
        if rms_dbfs(piece) < -40:
            continue
        window = received[start : start + segment + 4000]
        scores.append(_best_correlation(window, piece))
    return float(np.median(scores))


def test_the_callers_speech_reaches_the_session_as_16khz_frames_on_the_clock(
    speech_8k: AudioFrame,
) -> None:
    line = _line()
    asyncio.run(line.run(speech_8k.duration + 0.6, _caller_packets(speech_8k)))
    frames = line.frames()
    assert frames and all(f.rate == 16000 and len(f.samples) == 320 for f in frames)
    stamps = np.array([f.timestamp for f in frames])
    np.testing.assert_allclose(np.diff(stamps), 0.02, atol=1e-6)
    assert stamps[0] >= 100.0 - 0.02 and stamps[-1] + 0.02 <= line.clock.now() + 1e-6
    heard = AudioFrame.concat(frames).samples
    # what was sent, through G.711, at the pipeline rate
    reference = resample(AudioFrame(ulaw_decode(ulaw_encode(speech_8k.samples)), 8000), 16000)
    assert _segment_match(heard, reference.samples) > 0.95
    assert line.session.stats.lost == 0
    assert line.session.stats.packets_in == len(speech_8k.chunks(0.02))


def test_lost_and_reordered_packets_are_put_back_in_order_and_concealed(
    speech_8k: AudioFrame,
) -> None:
    clean = _line()
    asyncio.run(clean.run(speech_8k.duration + 0.6, _caller_packets(speech_8k)))
    lost = frozenset({30, 31, 60})
    packets = _caller_packets(speech_8k, skip=lost)
    # two packets swap places on the way
    (first, a, _), (second, b, _) = packets[40], packets[41]
    packets[40], packets[41] = (first, b, CALLER), (second, a, CALLER)
    line = _line()
    asyncio.run(line.run(speech_8k.duration + 0.6, packets))
    assert line.session.stats.late == 0, "the overtaken packet was thrown away"
    # each lost packet was bridged (20 ms each, the pair 40 ms) rather than left as a hole
    extra = line.session.stats.concealed_ms - clean.session.stats.concealed_ms
    assert extra == pytest.approx(60, abs=1)
    heard = AudioFrame.concat(line.frames()).samples
    reference = resample(AudioFrame(ulaw_decode(ulaw_encode(speech_8k.samples)), 8000), 16000)
    assert _segment_match(heard, reference.samples) > 0.9


def test_a_30ms_pcma_capture_with_real_jitter_plays_without_loss() -> None:
    captured = rtp_fixture("rtp_g711a.txt")
    line = _line(_params(("PCMA", 8)))
    packets = [(0.05 + arrival, data, CALLER) for arrival, data in captured]
    asyncio.run(line.run(captured[-1][0] + 0.4, packets))
    stats = line.session.stats
    assert stats.packets_in == len(captured)
    assert stats.lost == 0
    heard = AudioFrame.concat(line.frames())
    # 80 packets of 30 ms, plus the silence before the first one
    assert heard.duration >= 80 * 0.03


def test_keypad_digits_arrive_once_each_as_dtmf_input() -> None:
    line = _line()
    sender = RtpSender(0, ssrc=0x99, sequence=100, timestamp=8000)
    packets = []
    at = 0.05
    for digit in "42#":
        for packet in digit_packets(sender, digit, payload_type=101):
            packets.append((at, bytes(packet), CALLER))
            at += 0.02
    captured = [(1.5 + arrival, data, CALLER) for arrival, data in rtp_fixture("rtp_dtmf_1.txt")]
    asyncio.run(line.run(2.5, packets + captured))
    digits = [item for item in line.inputs if isinstance(item, DtmfInput)]
    assert [d.digits for d in digits] == ["4", "2", "#", "1"]
    assert digits[0].at == pytest.approx(100.05, abs=0.002)


def test_the_agents_voice_goes_out_paced_numbered_and_encoded() -> None:
    voice = EspeakVoice("en-us").speak("Your order ships tomorrow.", 16000)
    line = _line()
    line.playout.begin_reply(["Your order ships tomorrow."])
    for chunk in voice.chunks(0.02):
        line.playout.write(AudioFrame(chunk.samples, 16000, 0.0), 0)
    line.playout.segment_complete(0)
    line.playout.finish_writing()
    asyncio.run(line.run(voice.duration + 0.3))
    packets = line.sent_packets()
    assert all(d.destination == CALLER for d in line.network.sent if d.source == AGENT)
    assert len(packets) == pytest.approx((voice.duration + 0.3) / 0.02, abs=2)
    sequences = np.diff([p.sequence_number for p in packets]) % 65536
    assert set(sequences.tolist()) == {1}
    assert set((np.diff([p.timestamp for p in packets]) % 2**32).tolist()) == {160}
    assert packets[0].marker and not any(p.marker for p in packets[1:])
    assert {p.payload_type for p in packets} == {0}
    sent = np.concatenate([ulaw_decode(p.payload) for p in packets])
    reference = resample(voice, 8000).samples
    assert _segment_match(sent, reference, segment=800) > 0.95
    assert line.playout.played_text() == "Your order ships tomorrow."


def test_pausing_the_playout_silences_the_next_packet() -> None:
    voice = EspeakVoice("en-us+m7").speak("Let me check that parcel for you now.", 16000)
    line = _line()
    line.playout.begin_reply(["Let me check that parcel for you now."])
    line.playout.write(voice, 0)
    paused_at: list[int] = []

    def barge_in(elapsed: float) -> None:
        if elapsed >= 0.5 and not paused_at:
            line.playout.pause()
            paused_at.append(len(line.sent_packets()))

    asyncio.run(line.run(0.8, during=barge_in))
    packets = line.sent_packets()
    levels = [rms_dbfs(ulaw_decode(p.payload)) for p in packets]
    before, after = levels[: paused_at[0]], levels[paused_at[0] + 1 :]
    assert max(before) > -30
    assert max(after) < -60, "audio still sent after the pause"


def test_symmetric_rtp_answers_where_the_callers_packets_come_from(
    speech_8k: AudioFrame,
) -> None:
    nat_address = ("127.0.0.1", 41000)
    intruder = ("127.0.0.2", 30000)
    line = _line()
    packets = [(t, data, nat_address) for t, data, _ in _caller_packets(speech_8k)[:20]]
    packets.append((0.3, packets[5][1], intruder))
    asyncio.run(line.run(0.6, packets))
    destinations = [d.destination for d in line.network.sent if d.source == AGENT]
    assert destinations[0] == CALLER  # the SDP address, before anything was heard
    assert destinations[-1] == nat_address
    assert intruder not in destinations
    assert line.session.stats.ignored == 1


def test_a_caller_who_vanishes_is_hung_up_on_after_the_rtp_timeout(speech_8k: AudioFrame) -> None:
    line = _line(timeout_s=1.0)
    packets = _caller_packets(speech_8k)[:25]  # half a second of speech, then nothing
    asyncio.run(line.run(5.0, packets))
    assert line.closed_with == ["no RTP from the caller for 1 s"]
    gone_at = line.clock.now() - 100.0
    assert gone_at == pytest.approx(0.05 + 24 * 0.02 + 1.0, abs=0.05)


def test_on_hold_nothing_is_sent_and_silence_is_not_a_timeout() -> None:
    line = _line(_params(direction=Direction.INACTIVE), timeout_s=1.0)
    line.playout.begin_reply(["Hello."])
    line.playout.write(EspeakVoice("en-us").speak("Hello.", 16000), 0)
    asyncio.run(line.run(2.5))
    assert line.closed_with == ["test over"]
    assert line.sent_packets() == []
    assert len(line.frames()) >= 100  # the session still hears (silent) time pass


def test_resuming_from_hold_sends_again() -> None:
    line = _line(_params(direction=Direction.RECVONLY))

    def resume(elapsed: float) -> None:
        if elapsed >= 0.2 and not line.session.params.direction.sends:
            line.session.update(_params())

    asyncio.run(line.run(0.5, during=resume))
    assert 10 <= len(line.sent_packets()) <= 16


def test_a_caller_who_holds_with_sendonly_and_sends_nothing_is_not_taken_for_gone() -> None:
    # the caller's a=sendonly makes us recvonly: we could hear, but no RTP comes on hold
    line = _line(_params(direction=Direction.RECVONLY), timeout_s=1.0, max_hold_s=2.0)
    asyncio.run(line.run(3.0))
    assert line.closed_with == ["on hold for over 2 s"]  # the hold's bound, not the timeout
    assert line.clock.now() - 100.0 == pytest.approx(2.0, abs=0.05)


def test_the_rtp_timeout_counts_again_from_the_resume() -> None:
    line = _line(timeout_s=1.0)

    def hold_then_resume(elapsed: float) -> None:
        held = 0.2 <= elapsed < 1.5
        if held != line.session.on_hold:
            direction = Direction.RECVONLY if held else Direction.SENDRECV
            line.session.update(_params(direction=direction))

    asyncio.run(line.run(4.0, during=hold_then_resume))
    assert line.closed_with == ["no RTP from the caller for 1 s"]
    assert line.clock.now() - 100.0 == pytest.approx(1.5 + 1.0, abs=0.05)


def test_the_band_converter_keeps_speech_and_stops_aliasing() -> None:
    t16 = np.arange(16000) / 16000
    band = PhoneBand()
    tone = (8000 * np.sin(2 * np.pi * 1000 * t16)).astype(np.int16)
    down = np.concatenate([band.down(tone[i : i + 320]) for i in range(0, 16000, 320)])
    assert len(down) == 8000
    assert rms_dbfs(down[800:]) == pytest.approx(rms_dbfs(tone), abs=0.5)
    high = (8000 * np.sin(2 * np.pi * 5000 * t16)).astype(np.int16)
    fresh = PhoneBand()
    aliased = np.concatenate([fresh.down(high[i : i + 320]) for i in range(0, 16000, 320)])
    assert rms_dbfs(aliased[800:]) < rms_dbfs(high) - 40
    t8 = np.arange(8000) / 8000
    low = (8000 * np.sin(2 * np.pi * 1000 * t8)).astype(np.int16)
    up = np.concatenate([band.up(low[i : i + 160]) for i in range(0, 8000, 160)])
    assert len(up) == 16000
    assert rms_dbfs(up[1600:]) == pytest.approx(rms_dbfs(low), abs=0.5)
    spectrum = np.abs(np.fft.rfft(up[1600:].astype(np.float64)))
    freqs = np.fft.rfftfreq(len(up) - 1600, 1 / 16000)
    image = spectrum[(freqs > 6500) & (freqs < 7500)].max()
    assert image < spectrum.max() / 300, "the 7 kHz image of the 1 kHz tone is left in"


def test_packets_dropped_by_the_network_are_counted_by_the_fake() -> None:
    # the fake network itself: a dropped datagram is recorded but not delivered
    network = FakeNetwork(drop=lambda d: d.data == b"lost")
    receiver = Recorder()
    network.attach(receiver, CALLER)
    sender = network.attach(Recorder(), AGENT)
    sender.sendto(b"lost", CALLER)
    sender.sendto(b"kept", CALLER)
    assert network.sent == [Datagram(AGENT, CALLER, b"lost"), Datagram(AGENT, CALLER, b"kept")]
    assert receiver.received == [(b"kept", AGENT)]


def test_what_the_caller_sends_while_holding_the_call_is_not_heard(speech_8k: AudioFrame) -> None:
    line = _line(_params(direction=Direction.RECVONLY))  # the caller's SDP said a=sendonly
    asyncio.run(line.run(speech_8k.duration + 0.3, _caller_packets(speech_8k)))
    assert line.session.on_hold
    assert line.session.stats.packets_in > 100
    assert all(not np.any(frame.samples) for frame in line.frames())
