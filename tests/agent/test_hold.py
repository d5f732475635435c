"""A call on hold: the held state in stepped time, and the session paused by it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np

from tests.fakes.stages import EchoDialogue, EnergyVad, ListRecorder, ScriptedAsr, ToneTts, burst
from voice_agent.agent.events import AgentSaid, CallEvent
from voice_agent.agent.hold import CallHold
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallInput, CallParts, HoldChanged
from voice_agent.agent.session import CallSession
from voice_agent.audio import AudioFrame
from voice_agent.bench.caller import Cue, Line, ScriptedCaller
from voice_agent.clock import FakeClock
from voice_agent.settings import SessionSettings
from voice_agent.transport.wavfile import Pacing, WavCallTransport

FRAME = 320  # 20 ms at 16 kHz


def _reply(playout: Playout, samples: int, value: int = 1000) -> None:
    playout.begin_reply(["one two"])
    playout.write(AudioFrame(np.full(samples, value, dtype=np.int16), 16000, 0.0), 0)
    playout.segment_complete(0)
    playout.finish_writing()


def test_the_held_state_counts_its_time_and_ignores_repeated_changes() -> None:
    clock = FakeClock(100.0)
    hold = CallHold(Playout(clock))
    assert not hold.held and hold.held_for(clock.now()) == 0.0
    assert hold.change(True, clock.now()) is False  # put on hold: nothing to restart yet
    clock.advance(12.5)
    assert hold.change(True, clock.now()) is False  # a second sendonly re-INVITE: still held
    clock.advance(2.5)
    assert hold.held and hold.held_for(clock.now()) == 15.0  # from the first change
    assert hold.change(False, clock.now()) is True  # taken off hold: the session counts afresh
    assert not hold.held and hold.held_for(clock.now()) == 0.0
    assert hold.change(False, clock.now()) is False  # a sendrecv refresh is not a resume


def test_on_hold_the_reply_stops_where_it_was_and_goes_on_from_there() -> None:
    clock = FakeClock(100.0)
    playout = Playout(clock)
    hold = CallHold(playout)
    _reply(playout, 5 * FRAME)
    assert np.all(playout.read(2 * FRAME).samples == 1000)
    hold.change(True, clock.now())
    for _ in range(50):  # a second on hold: silence, and nothing of the reply is used up
        assert not np.any(playout.read(FRAME).samples)
    assert playout.pending and playout.played_text() == ""
    playout.pause()  # a barge-in's pause and resume do not take the call off hold
    playout.resume()
    assert not np.any(playout.read(FRAME).samples)
    hold.change(False, clock.now())
    rest = np.concatenate([playout.read(FRAME).samples for _ in range(4)])
    assert np.count_nonzero(rest) == 3 * FRAME  # the three frames left, then silence
    assert not playout.pending and playout.played_text() == "one two"


def test_a_new_reply_while_on_hold_waits_for_the_caller() -> None:
    # A reply committed just after the hold (its turn was under way) is not played to nobody.
    clock = FakeClock(100.0)
    playout = Playout(clock)
    hold = CallHold(playout)
    hold.change(True, clock.now())
    _reply(playout, FRAME)
    assert not np.any(playout.read(FRAME).samples)
    hold.change(False, clock.now())
    assert np.all(playout.read(FRAME).samples == 1000)


class _HoldingLine:
    """A simulated line whose caller holds the call from `hold_at` to `resume_at` (seconds)."""

    def __init__(self, line: WavCallTransport, hold_at: float, resume_at: float) -> None:
        self.line = line
        self._changes = [(hold_at, True), (resume_at, False)]

    def clear(self) -> None:
        self.line.clear()

    async def hang_up(self) -> None:
        await self.line.hang_up()

    def publish(self, event: CallEvent) -> None:
        self.line.publish(event)

    async def inputs(self) -> AsyncIterator[CallInput]:
        started: float | None = None
        async for item in self.line.inputs():
            if isinstance(item, AudioFrame):
                started = item.timestamp if started is None else started
                while self._changes and item.timestamp - started >= self._changes[0][0]:
                    yield HoldChanged(self._changes.pop(0)[1])
            yield item


def _held_call(hold_at: float, resume_at: float) -> tuple[WavCallTransport, ListRecorder]:
    """A mute caller on a line held from `hold_at` to `resume_at`. Unheld, the caller is
    re-prompted ~2 s after the greeting (1.75 s of audio) and hung up on ~2 s later."""
    clock = FakeClock(100.0)
    playout = Playout(clock)
    mute = Line(burst(0.5), cue=Cue.DURING_REPLY, into_reply_s=10_000)
    transport = WavCallTransport(ScriptedCaller([mute]), playout, clock, Pacing.STEPPED, max_s=60)
    recorder = ListRecorder()
    line = _HoldingLine(transport, hold_at, resume_at)
    stages = (EnergyVad(), ScriptedAsr({}), ToneTts(), EchoDialogue())
    parts = CallParts(line, playout, *stages, recorder)
    settings = SessionSettings(reprompt_after_s=2.0, hang_up_after_reprompts=1)
    session = CallSession(settings, parts, clock)
    transport.settle = session.settled
    asyncio.run(session.run())
    return transport, recorder


def _said(transport: WavCallTransport) -> list[tuple[float, str]]:
    call = transport.call
    return [(e.at - call.started_at, e.text) for e in call.events if isinstance(e, AgentSaid)]


def test_a_held_call_is_not_reprompted_and_its_greeting_goes_on_after_the_resume() -> None:
    transport, recorder = _held_call(1.0, 21.0)  # held in the middle of the greeting
    call = transport.call
    audible = [i for i, block in enumerate(call.agent_audio) if np.any(block)]
    held = [i for i in audible if 1.02 <= i * 0.02 < 21.0]
    assert held == [], f"agent audio on hold at {held[0] * 0.02:.2f} s"
    said = _said(transport)
    assert [text for _, text in said][1:] == ["(session.reprompt)", "(session.silence_goodbye)"]
    assert said[1][0] > 21.0 + 0.75 + 2.0 - 0.1  # the rest of the greeting, then 2 s of quiet
    greeting = next(turn for turn in recorder.turns if turn.speaker == "agent")
    assert not greeting.interrupted and greeting.played_text == greeting.text
    # the greeting's 1.75 s were all played: 0.98 s before the hold, the rest after it
    greeting_blocks = [i for i in audible if i * 0.02 < 21.0 + 0.75 + 0.1]
    assert len(greeting_blocks) == round(1.75 / 0.02)


def test_a_call_held_while_quiet_counts_its_silence_afresh_from_the_resume() -> None:
    transport, _ = _held_call(2.5, 22.5)  # after the greeting, before the re-prompt is due
    said = _said(transport)
    assert [text for _, text in said][1:] == ["(session.reprompt)", "(session.silence_goodbye)"]
    assert said[1][0] > 22.5 + 2.0 - 0.1
