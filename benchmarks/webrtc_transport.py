"""The WebRTC transport's share of voice-to-voice latency, over 127.0.0.1 (no models).

Two aiortc callers call the agent's real web app; a stub call plays speech into each call's
Playout and records what the session would receive. Speech onsets are timed on both sides of
the line (every time is when a 20 ms block is handed on: to aiortc, to the session, read from
the Playout, decoded by the caller):

- caller -> agent: the caller's frame handed to aiortc -> the frame given to the session
- agent -> caller: 20 ms read from the Playout -> the caller's decoded audio, with the
  caller's receiver as aiortc ships it (4-packet prefetch) and with the agent's own tap

Run: .venv/bin/python -m benchmarks.webrtc_transport [--onsets 12]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from dataclasses import dataclass, field

import numpy as np

from tests.fakes.stages import ScriptedAsr
from tests.transport.webrtc_support import LINE_RATE, AiortcCaller, FakeAgent, agent_server
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallTransport
from voice_agent.audio import AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.bench.voices import EspeakVoice
from voice_agent.clock import RealClock
from voice_agent.transport.webrtc import _InputTimeline, _OpusTap, _tap_receiver

ONSET_LEVEL = 2000
GAP_S = 1.0


@dataclass
class Timed:
    """Audio blocks with the time each was handed on."""

    blocks: list[tuple[float, Int16Array, int]] = field(default_factory=list)

    def add(self, at: float, samples: Int16Array, rate: int) -> None:
        self.blocks.append((at, samples, rate))

    def onsets(self, quiet_s: float = 0.5) -> list[float]:
        """Times of the first loud sample after at least quiet_s of quiet."""
        found: list[float] = []
        last_loud = -1e9
        for at, samples, rate in self.blocks:
            for index in np.nonzero(np.abs(samples.astype(np.int32)) > ONSET_LEVEL)[0]:
                moment = at + index / rate
                if moment - last_loud > quiet_s:
                    found.append(moment)
                last_loud = moment
        return found


@dataclass
class StubCalls:
    """Each call: its Playout's reads and the session's input, timed."""

    playouts: list[Playout] = field(default_factory=list)
    reads: list[Timed] = field(default_factory=list)
    inputs: list[Timed] = field(default_factory=list)

    async def run_call(self, transport: CallTransport, playout: Playout, caller_id: str) -> None:
        reads, inputs = Timed(), Timed()
        self.playouts.append(playout)
        self.reads.append(reads)
        self.inputs.append(inputs)
        read, clock = playout.read, playout.clock

        def timed_read(samples: int) -> AudioFrame:
            frame = read(samples)
            reads.add(clock.now(), frame.samples, frame.rate)
            return frame

        setattr(playout, "read", timed_read)  # noqa: B010  (timing the reads, not changing them)
        async for item in transport.inputs():
            if isinstance(item, AudioFrame):
                inputs.add(clock.now(), item.samples, item.rate)


def _delays(sent: list[float], got: list[float]) -> list[float]:
    """Each sent onset to the first received onset after it, in ms."""
    delays = []
    for moment in sent:
        later = [g for g in got if g >= moment - 0.005]
        if later and later[0] - moment < GAP_S / 2:
            delays.append((later[0] - moment) * 1000)
    return delays


def _describe(name: str, delays: list[float]) -> str:
    if not delays:
        return f"{name}: no onsets matched"
    ordered = sorted(delays)
    return (
        f"{name}: median {statistics.median(ordered):.1f} ms, "
        f"min {ordered[0]:.1f}, max {ordered[-1]:.1f} (n={len(ordered)})"
    )


async def measure(onsets: int) -> list[str]:
    speech = EspeakVoice("en-us").speak("Hello there")
    stubs = StubCalls()
    agent = FakeAgent(ScriptedAsr({0.0: ""}))
    agent.run_call = stubs.run_call  # type: ignore[method-assign]
    clock = RealClock()
    async with agent_server(agent) as (url, gateway):
        stock, tapped = AiortcCaller(), AiortcCaller()
        tapped_heard = Timed()

        def heard(frame: AudioFrame) -> None:
            tapped_heard.add(clock.now(), frame.samples, frame.rate)

        receiver = tapped.pc.getTransceivers()[0].receiver
        _tap_receiver(receiver, _OpusTap(_InputTimeline(clock, heard).add, clock))
        await stock.call(url)
        await tapped.call(url)
        await asyncio.sleep(1.5)
        for _ in range(onsets):
            stock.mic.say(speech)
            for playout in stubs.playouts:
                playout.begin_reply(["hello there"])
                playout.write(speech, 0)
                playout.finish_writing()
            await asyncio.sleep(GAP_S + speech.duration)
        await stock.close()
        await tapped.close()
        await asyncio.sleep(0.5)
        finished = list(gateway.finished)
    caller_sent, stock_heard = Timed(), Timed()
    for at, samples in stock.mic.sent:
        caller_sent.add(at, samples, LINE_RATE)
    for at, samples in zip(stock.heard.arrived, stock.heard.chunks, strict=True):
        stock_heard.add(at, samples, 48_000)
    lines = [
        _describe(
            "caller -> agent (caller's frame handed to aiortc -> session)",
            _delays(caller_sent.onsets(), stubs.inputs[0].onsets()),
        ),
        _describe(
            "agent -> caller, aiortc's stock receiver (Playout read -> caller decoded)",
            _delays(stubs.reads[0].onsets(), stock_heard.onsets()),
        ),
        _describe(
            "agent -> caller, tapped receiver (Playout read -> caller decoded)",
            _delays(stubs.reads[1].onsets(), tapped_heard.onsets()),
        ),
    ]
    for call in finished:
        handoff = statistics.median(call.handoff_ms) if call.handoff_ms else 0.0
        late = sorted(call.send_late_ms) or [0.0]
        lines.append(
            f"agent side of a call: decode {call.decode_ms_mean:.2f} ms/packet, encode "
            f"{call.encode_ms_mean:.2f} ms/packet, hand-off to the session {handoff:.2f} ms "
            f"median, packets read late {statistics.median(late):.1f} ms median / "
            f"{late[int(len(late) * 0.99)]:.1f} p99, {call.lost_in} lost of {call.packets_in}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--onsets", type=int, default=12)
    args = parser.parse_args()
    for line in asyncio.run(measure(args.onsets)):
        print(line)


if __name__ == "__main__":
    main()
