"""The session's wiring in stepped time, with fake stages (the real models are in test_calls)."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from tests.fakes.stages import (
    EchoDialogue,
    EnergyVad,
    ListRecorder,
    ScriptedAsr,
    ScriptedStreaming,
    ToneTts,
    burst,
)
from voice_agent.agent.events import (
    AgentStopped,
    BargeIn,
    BargeInResolved,
    CallerHeard,
    CallerSaid,
    TurnLatency,
)
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallParts, DtmfInput
from voice_agent.agent.session import CallSession
from voice_agent.audio import AudioFrame
from voice_agent.bench.caller import Cue, Line, ScriptedCaller
from voice_agent.clock import FakeClock
from voice_agent.settings import SessionSettings
from voice_agent.transport.wavfile import Pacing, WavCallTransport


@dataclass
class Run:
    transport: WavCallTransport
    caller: ScriptedCaller
    recorder: ListRecorder
    tts: ToneTts
    asr: ScriptedAsr


def _call(
    lines: list[Line],
    asr: ScriptedAsr,
    settings: SessionSettings | None = None,
    vad: EnergyVad | None = None,
    max_s: float = 120,
    dialogue: EchoDialogue | None = None,
    streaming: ScriptedStreaming | None = None,
) -> Run:
    clock = FakeClock(100.0)
    playout = Playout(clock)
    caller = ScriptedCaller(lines)
    transport = WavCallTransport(caller, playout, clock, Pacing.STEPPED, max_s=max_s)
    recorder = ListRecorder()
    tts = ToneTts()
    dialogue = dialogue or EchoDialogue()
    parts = CallParts(transport, playout, vad or EnergyVad(), asr, tts, dialogue, recorder)
    parts.streaming = streaming
    session = CallSession(settings or SessionSettings(), parts, clock)
    transport.settle = session.settled
    asyncio.run(session.run())
    return Run(transport, caller, recorder, tts, asr)


def test_a_turn_is_answered_and_recorded_with_latency_marks() -> None:
    run = _call(
        [Line(burst(1.0), cue=Cue.AFTER_REPLY), Line(burst(0.6, seed=2))],
        ScriptedAsr({0.0: "bye", 1.2: "where is my order"}),
    )
    speakers = [(t.speaker, t.text) for t in run.recorder.turns]
    assert speakers[0] == ("agent", "Hello. How can I help you today?")
    assert ("caller", "where is my order") in speakers
    assert run.recorder.writes == ["write-where is my order"]
    latencies = [e for e in run.transport.call.events if isinstance(e, TurnLatency)]
    assert latencies, "no latency marks published"
    marks = latencies[0].marks_ms
    assert {
        "endpoint",
        "asr_final",
        "reply_first_text",
        "tts_first_audio",
        "first_audio_sent",
    } <= set(marks)
    # in stepped time inference is instant: first audio comes right after the hold
    assert marks["first_audio_sent"] >= SessionSettings().turn.hold_complete_s * 1000
    assert speakers[-1] == ("agent", "Goodbye.")


def test_the_transcripts_confidence_and_rewritten_digits_reach_the_dialogue() -> None:
    dialogue = EchoDialogue()
    _call(
        [Line(burst(1.0), cue=Cue.AFTER_REPLY), Line(burst(0.6, seed=2))],
        ScriptedAsr({0.0: "bye", 1.2: "four seven seven oh oh"}, confidence=0.4, rewritten=True),
        dialogue=dialogue,
    )
    heard = [t for t in dialogue.transcripts if t is not None]
    assert heard and heard[0].text == "four seven seven oh oh"
    assert all(t.confidence == 0.4 and t.digits_rewritten for t in heard)


def test_the_transcript_is_taken_at_a_tentative_pause_before_the_vad_confirms_the_end() -> None:
    vad = EnergyVad(hangover_frames=8, pause_frames=2)
    run = _call(
        [Line(burst(1.0), cue=Cue.AFTER_REPLY), Line(burst(0.6, seed=2))],
        ScriptedAsr({0.0: "bye", 1.2: "where is my order"}),
        vad=vad,
    )
    latency = next(e for e in run.transport.call.events if isinstance(e, TurnLatency))
    # Within two quiet frames, not the eight of the hangover (inference is instant here).
    assert latency.marks_ms["asr_final"] <= 40
    said = [t.text for t in run.recorder.turns if t.speaker == "caller"]
    assert said[0] == "where is my order"


def test_a_caller_who_resumes_after_a_tentative_pause_is_heard_as_one_turn() -> None:
    # 60 ms of quiet: a tentative pause (two frames), then the caller goes on.
    going_on = AudioFrame.concat([burst(0.8), AudioFrame.silence(0.06), burst(0.6, seed=7)])
    asr = ScriptedAsr({0.0: "bye", 0.8: "my order", 1.4: "where is my order"})
    run = _call(
        [Line(going_on, cue=Cue.AFTER_REPLY), Line(burst(0.5, seed=8))],
        asr,
        vad=EnergyVad(hangover_frames=8, pause_frames=2),
    )
    said = [t.text for t in run.recorder.turns if t.speaker == "caller"]
    assert said[0] == "where is my order"
    # The pass taken at the tentative pause heard only the first part; the turn, all of it.
    durations = [duration for duration, _ in asr.calls]
    assert any(0.8 <= d < 1.3 for d in durations) and any(d >= 1.4 for d in durations)


def test_interim_captions_go_out_while_the_caller_speaks() -> None:
    asr = ScriptedAsr({0.0: "bye", 0.5: "where is", 1.0: "where is my", 2.0: "where is my order"})
    streaming = ScriptedStreaming(asr)
    run = _call(
        [Line(burst(2.2), cue=Cue.AFTER_REPLY), Line(burst(0.5, seed=8))], asr, streaming=streaming
    )
    events = run.transport.call.events
    heard = [e for e in events if isinstance(e, CallerHeard)]
    said = next(e for e in events if isinstance(e, CallerSaid))
    assert [(e.confirmed, e.pending) for e in heard[:2]] == [("where", "is"), ("where is", "my")]
    assert all(e.at < said.at for e in heard[:4])
    assert said.text == "where is my order"


def test_no_turn_commits_while_the_caller_is_audibly_going_on() -> None:
    # The VAD confirms speech only after 200 ms: a caller who resumes 200 ms after a pause is
    # heard going on before the hold runs out, though the VAD has not said so yet.
    pause = AudioFrame.concat([burst(0.8), AudioFrame.silence(0.2), burst(0.6, seed=7)])
    run = _call(
        [Line(pause, cue=Cue.AFTER_REPLY), Line(burst(0.5, seed=8))],
        ScriptedAsr({0.0: "bye", 1.0: "my order", 1.6: "where is my order"}),
        vad=EnergyVad(start_frames=10),
    )
    said = [t.text for t in run.recorder.turns if t.speaker == "caller"]
    assert said[0] == "where is my order"


def test_sound_the_vad_never_confirms_does_not_hold_the_turn() -> None:
    # A noise under the VAD's threshold starts right after the caller stops: it may be them
    # going on for a moment, but not for the two seconds it lasts.
    noisy = AudioFrame.concat([burst(0.8), AudioFrame.silence(0.2), burst(2.0, -45, seed=9)])
    run = _call(
        [Line(noisy, cue=Cue.AFTER_REPLY), Line(burst(0.5, seed=8))],
        ScriptedAsr({0.0: "bye", 1.0: "where is my order"}),
    )
    said = [e for e in run.transport.call.events if isinstance(e, CallerSaid)]
    assert said and said[0].text == "where is my order"
    assert said[0].at < run.caller.spoken[0].ended_at - 1.0


def test_caller_talking_over_the_reply_stops_it_and_only_the_played_part_is_kept() -> None:
    lines = [
        Line(burst(1.0), cue=Cue.AFTER_REPLY),
        Line(burst(1.5, dbfs=-10, seed=3), cue=Cue.DURING_REPLY, into_reply_s=1.0),
        Line(burst(0.4, seed=4)),
    ]
    run = _call(lines, ScriptedAsr({0.0: "bye", 1.2: "where is my order", 1.6: "no stop that"}))
    events = run.transport.call.events
    barge = [e for e in events if isinstance(e, BargeIn)]
    resolved = [e for e in events if isinstance(e, BargeInResolved)]
    assert barge and resolved and resolved[0].interrupted
    onset = run.caller.spoken[1].started_at
    assert barge[0].onset - onset < 0.05
    stopped = [e for e in events if isinstance(e, AgentStopped) and e.interrupted]
    assert stopped
    interrupted = [t for t in run.recorder.turns if t.speaker == "agent" and t.interrupted]
    assert interrupted and interrupted[0].played_text
    full = "You said: where is my order Is there anything else I can help you with today?"
    assert interrupted[0].text == full
    assert interrupted[0].played_text != full and full.startswith(interrupted[0].played_text)


def test_a_short_noise_over_the_reply_resumes_it() -> None:
    lines = [
        Line(burst(1.0), cue=Cue.AFTER_REPLY),
        Line(burst(0.15, dbfs=-10, seed=5), cue=Cue.DURING_REPLY, into_reply_s=1.0),
        Line(burst(0.4, seed=6)),
    ]
    run = _call(lines, ScriptedAsr({0.0: "", 0.6: "bye", 1.2: "where is my order"}))
    resolved = [e for e in run.transport.call.events if isinstance(e, BargeInResolved)]
    assert resolved and not resolved[0].interrupted
    replies = [t for t in run.recorder.turns if t.speaker == "agent" and "You said" in t.text]
    assert replies and not replies[0].interrupted


def test_silence_is_reprompted_then_the_call_ends_politely() -> None:
    settings = SessionSettings(reprompt_after_s=2.0, hang_up_after_reprompts=1)
    never = Line(burst(0.5), cue=Cue.DURING_REPLY, into_reply_s=10_000)  # a caller who stays mute
    run = _call([never], ScriptedAsr({}), settings)
    texts = [t.text for t in run.recorder.turns if t.speaker == "agent"]
    assert texts[1] == "(session.reprompt)"  # the dialogue's sentence in the call's language
    assert texts[2] == "(session.silence_goodbye)"
    assert run.transport.call.agent().duration < 60  # hung up, not left to the line's limit


def test_the_call_time_limit_ends_the_call_politely() -> None:
    settings = SessionSettings(max_call_s=12.0, reprompt_after_s=100.0)
    lines = [Line(burst(1.0), cue=Cue.AFTER_REPLY), Line(burst(0.6, seed=2))]
    never = Line(burst(0.5), cue=Cue.DURING_REPLY, into_reply_s=10_000)
    run = _call([*lines, never], ScriptedAsr({0.0: "hello", 1.2: "where is my order"}), settings)
    texts = [t.text for t in run.recorder.turns if t.speaker == "agent"]
    assert texts[-1] == "(session.time_limit_goodbye)"
    assert run.transport.call.agent().duration < 30


class _KeypadTransport(WavCallTransport):
    """Types digits, one key per event as a phone line delivers them, after the greeting."""

    def __init__(self, keys: str, at_frame: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keys = keys
        self._at_frame = at_frame

    async def inputs(self) -> AsyncIterator[AudioFrame | DtmfInput]:
        frame = 0
        async for item in super().inputs():
            yield item
            frame += 1
            if self._at_frame <= frame < self._at_frame + len(self._keys) * 5 and frame % 5 == 0:
                at = item.timestamp if isinstance(item, AudioFrame) else item.at
                yield DtmfInput(self._keys[(frame - self._at_frame) // 5], at)


def test_keypad_digits_are_collected_up_to_the_hash_key_and_answered_once() -> None:
    clock = FakeClock(100.0)
    playout = Playout(clock)
    never = Line(burst(0.5), cue=Cue.DURING_REPLY, into_reply_s=10_000)
    transport = _KeypadTransport(
        "47700#", at_frame=150, caller=ScriptedCaller([never]), playout=playout,
        clock=clock, pacing=Pacing.STEPPED, max_s=12,
    )  # fmt: skip
    recorder = ListRecorder()
    parts = CallParts(
        transport, playout, EnergyVad(), ScriptedAsr({}), ToneTts(), EchoDialogue(), recorder
    )
    session = CallSession(SessionSettings(), parts, clock)
    transport.settle = session.settled
    asyncio.run(session.run())
    callers = [t.text for t in recorder.turns if t.speaker == "caller"]
    assert callers == ["(keypad) 47700#"]
    assert recorder.writes == ["write-keys 47700#"]


def test_a_caller_gone_before_the_greeting_starts_leaves_no_coroutine_unawaited() -> None:
    # The line ends before the greeting's task has run a step: the task is cancelled unstarted.
    # Python warns of a coroutine never awaited only when it is collected, hence gc.collect().
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _call([], ScriptedAsr({}), max_s=0)
        gc.collect()
    unawaited = [str(w.message) for w in caught if "never awaited" in str(w.message)]
    assert unawaited == []


class _GoneLineTransport(WavCallTransport):
    """A line that ends (the caller hung up) after `max_s`; counts what the session asks of it
    after that, when there is no line left to clear or hang up."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cleared = 0
        self.hung_up = 0

    def clear(self) -> None:
        self.cleared += 1

    async def hang_up(self) -> None:
        self.hung_up += 1


def test_a_caller_who_hangs_up_mid_reply_is_recorded_as_having_heard_only_part_of_it() -> None:
    clock = FakeClock(100.0)
    playout = Playout(clock)
    mute = ScriptedCaller([])
    transport = _GoneLineTransport(
        caller=mute, playout=playout, clock=clock, pacing=Pacing.STEPPED, max_s=1.0
    )  # the greeting lasts 1.75 s
    recorder = ListRecorder()
    parts = CallParts(
        transport, playout, EnergyVad(), ScriptedAsr({}), ToneTts(), EchoDialogue(), recorder
    )
    session = CallSession(SessionSettings(), parts, clock)
    transport.settle = session.settled
    asyncio.run(session.run())
    [greeting] = recorder.turns
    full = "Hello. How can I help you today?"
    assert greeting.speaker == "agent" and greeting.text == full and greeting.interrupted
    assert greeting.played_text and greeting.played_text != full
    assert full.startswith(greeting.played_text)
    stopped = [e for e in transport.call.events if isinstance(e, AgentStopped)]
    assert [(e.played_text, e.interrupted) for e in stopped] == [(greeting.played_text, True)]
    assert (transport.cleared, transport.hung_up) == (0, 0)
