"""Whole calls with the real models and the demo shop, driven by synthetic caller speech.

Stepped time: the session's timing decisions are those of real time with instant inference,
so these are deterministic; real-time latency is measured in benchmarks/calls.py.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from voice_agent.agent.events import AgentStopped, BargeIn, BargeInResolved, CallerSaid
from voice_agent.agent.observe import ObservedRecorder
from voice_agent.agent.recorder import StoreRecorder
from voice_agent.app import App
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.audio.telephone import through_telephone
from voice_agent.bench.caller import Cue, Line
from voice_agent.bench.impairment import BurstLoss, profile_named
from voice_agent.bench.simulate import EchoPath, SimulatedCall, simulate_call
from voice_agent.bench.voices import EspeakVoice, piper_speaker, trim_silence
from voice_agent.settings import load_settings
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data = tmp_path_factory.mktemp("calls")
    settings = load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(data),
            "VOICE_AGENT_STORE__URL": f"sqlite:///{data / 'calls.sqlite3'}",
        }
    )
    app = App(settings)
    import_document(app.database, demo_document(datetime.now(UTC)), "demo")
    asyncio.run(app.warm_up())
    yield app
    app.close()


def _say(text: str, voice: str = "en-us", **cue: object) -> Line:
    return Line(EspeakVoice(voice).speak(text), text, **cue)  # type: ignore[arg-type]


def _run(
    app: App, lines: list[Line], echo: EchoPath | None = None, channel: str = "wav"
) -> SimulatedCall:
    return asyncio.run(simulate_call(app, lines, echo=echo, channel=channel))


def _by_phone(audio: AudioFrame, lost_seed: int | None = None) -> AudioFrame:
    """`audio` as it arrives over a phone line; with a seed, also with the packets the
    benchmark's cross-border network loses (3 %, in bursts of up to 80 ms) silenced."""
    phoned = through_telephone(audio)
    if lost_seed is None:
        return phoned
    profile = profile_named("cross-border")
    loss = BurstLoss(profile.loss, profile.mean_burst, random.Random(lost_seed))
    samples = phoned.samples.copy()
    packet = round(0.02 * phoned.rate)
    for start in range(0, len(samples), packet):
        if loss.drops_next():
            samples[start : start + packet] = 0
    return AudioFrame(samples, phoned.rate)


def _agent_audio_after(call: SimulatedCall, start: float, stop: float | None = None) -> AudioFrame:
    agent = call.call.agent()
    return agent.slice(start - agent.timestamp, None if stop is None else stop - agent.timestamp)


def _words(text: str) -> set[str]:
    return set("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _stored_turns(app: App, call: SimulatedCall) -> list[tuple[str, str, bool, str | None]]:
    recorder = call.session.parts.recorder
    assert isinstance(recorder, ObservedRecorder) and isinstance(recorder.inner, StoreRecorder)
    turns = app.repository.turns(recorder.inner.conversation_id)
    return [(t.speaker, t.text, t.interrupted, t.played_text) for t in turns]


def test_caller_verifies_and_hears_where_the_order_is(app: App) -> None:
    lines = [
        _say("Where is my order?", "en-gb+f3"),
        _say("It's four seven seven zero zero.", "en-gb+f3"),
        _say("The last four digits of my phone are zero three two one.", "en-gb+f3"),
        _say("No thanks, goodbye.", "en-gb+f3"),
    ]
    call = _run(app, lines)
    said = [e.text for e in call.of_type(CallerSaid) if isinstance(e, CallerSaid)]
    assert len(said) >= 3, said
    status_start = call.spoken[2].ended_at
    status_end = call.spoken[3].started_at
    heard = asyncio.run(app.asr.transcribe(_agent_audio_after(call, status_start, status_end)))
    words = _words(heard.text)
    assert "delivery" in words, heard.text  # "out for delivery" with Royal Mail
    assert {"royal", "mail"} & words, heard.text
    turns = _stored_turns(app, call)
    assert [speaker for speaker, *_ in turns][:2] == ["agent", "caller"]
    assert any("delivery" in text for speaker, text, *_ in turns if speaker == "agent")


def test_a_pause_inside_the_order_number_does_not_cut_the_caller_off(app: App) -> None:
    voice = EspeakVoice("en-us")
    first, rest = voice.speak("It's four seven seven"), voice.speak("zero zero.")
    pause = AudioFrame.silence(0.6, first.rate)
    number = AudioFrame.concat([first, pause, rest])
    lines = [_say("Where is my order?"), Line(number, "It's four seven seven ... zero zero.")]
    lines.append(_say("Goodbye."))
    call = _run(app, lines)
    said = [e.text for e in call.of_type(CallerSaid) if isinstance(e, CallerSaid)]
    digits = [text for text in said if "4" in text or "four" in text.lower()]
    assert len(digits) == 1, said  # one turn, not two
    assert "".join(ch for ch in digits[0] if ch.isdigit()) == "47700", said


def test_talking_over_a_reply_stops_it_and_only_the_heard_part_is_stored(app: App) -> None:
    lines = [
        _say("Where is my order?"),
        _say(
            "Actually I would rather talk to a person please.",
            "en-us+m7",
            cue=Cue.DURING_REPLY,
            into_reply_s=1.2,
        ),
        _say("Goodbye."),
    ]
    call = _run(app, lines)
    resolved = [e for e in call.of_type(BargeInResolved) if isinstance(e, BargeInResolved)]
    assert resolved and resolved[0].interrupted
    stopped = [e for e in call.of_type(AgentStopped) if isinstance(e, AgentStopped)]
    assert any(e.interrupted for e in stopped)
    turns = _stored_turns(app, call)
    cut = [t for t in turns if t[0] == "agent" and t[2]]
    assert cut, turns
    _, full, _, played = cut[0]
    assert played is not None and len(played) < len(full) and full.startswith(played)
    # the caller's interruption became their next turn, and it was answered
    assert any("person" in text.lower() for speaker, text, *_ in turns if speaker == "caller")


@pytest.mark.parametrize("delay_s", [0.04, 0.08, 0.12])
def test_the_agents_own_echo_does_not_interrupt_it(app: App, delay_s: float) -> None:
    lines = [_say("Where is my order?"), _say("Goodbye.")]
    call = _run(app, lines, echo=EchoPath(delay_s=delay_s, gain_db=-12))
    assert not call.of_type(BargeIn), call.of_type(BargeIn)
    assert not any(
        e.interrupted for e in call.of_type(AgentStopped) if isinstance(e, AgentStopped)
    )


def test_caller_speech_over_the_echo_still_interrupts(app: App) -> None:
    lines = [
        _say("Where is my order?"),
        _say("No wait, I want to talk to a person.", "en-gb+f3", cue=Cue.DURING_REPLY),
        _say("Goodbye."),
    ]
    call = _run(app, lines, echo=EchoPath(delay_s=0.08, gain_db=-12))
    resolved = [e for e in call.of_type(BargeInResolved) if isinstance(e, BargeInResolved)]
    assert resolved and resolved[0].interrupted


@pytest.mark.parametrize("backchannel", ["Mm-hm.", "Okay."])
def test_a_backchannel_during_a_reply_does_not_interrupt(app: App, backchannel: str) -> None:
    lines = [
        _say("Where is my order?"),
        _say(backchannel, cue=Cue.DURING_REPLY, into_reply_s=1.0),
        _say("Goodbye.", cue=Cue.AFTER_REPLY),
    ]
    call = _run(app, lines)
    resolved = [e for e in call.of_type(BargeInResolved) if isinstance(e, BargeInResolved)]
    assert resolved and not any(e.interrupted for e in resolved), resolved
    stopped = [e for e in call.of_type(AgentStopped) if isinstance(e, AgentStopped)]
    assert stopped and not any(e.interrupted for e in stopped)
    # the reply went on to its end: the whole question was played
    assert any("order number" in e.played_text for e in stopped)


def test_the_agents_audio_is_recorded_as_heard(app: App, tmp_path: Path) -> None:
    call = _run(app, [_say("Goodbye.")])
    agent = call.call.agent()
    assert agent.rate == 16000 and agent.duration > 2
    assert np.abs(agent.samples).max() > 1000


def _caller_turns(app: App, call: SimulatedCall) -> list[str]:
    return [text for speaker, text, *_ in _stored_turns(app, call) if speaker == "caller"]


@pytest.mark.parametrize(
    ("line", "word"), [("A person, please.", "please"), ("Okay, thank you, goodbye.", "thank")]
)
def test_a_line_over_a_reply_by_phone_with_a_pause_inside_is_heard(
    app: App, line: str, word: str
) -> None:
    # Each part of the line alone sounds like a backchannel (a word or two, a low confidence
    # by phone): judged at the comma, the reply resumed over it and the line was lost.
    def say(text: str, **cue: object) -> Line:
        speech = _by_phone(EspeakVoice("en-gb+f3").speak(text))
        return Line(speech, text, **cue)  # type: ignore[arg-type]

    lines = [
        say("Where is my order?"),
        say(line, cue=Cue.DURING_REPLY, into_reply_s=1.5),
        say("Goodbye."),
    ]
    call = _run(app, lines, channel="sip")
    resolved = [e for e in call.of_type(BargeInResolved) if isinstance(e, BargeInResolved)]
    assert resolved and resolved[-1].interrupted, resolved
    turns = _stored_turns(app, call)
    assert any(speaker == "agent" and cut for speaker, _, cut, _ in turns), turns
    heard = [text for text in _caller_turns(app, call) if word in text.lower()]
    assert len(heard) == 1, turns  # the whole line, as one turn


@pytest.mark.parametrize(("channel", "lost_seed"), [("wav", None), ("sip", 16), ("sip", 28)])
def test_a_pause_inside_a_line_does_not_split_it_into_two_turns(
    app: App, channel: str, lost_seed: int | None
) -> None:
    # Piper pauses 0.33 s at the comma: the turn "Hi there." committed there (a complete
    # sentence holds 0.25 s), and the rest of the line, over the reply, became a second turn.
    speak = piper_speaker(app.models)
    text = "Hi there, I ordered something from your shop two weeks ago and I want to know where."
    speech = trim_silence(resample(speak(text, 1.0), PIPELINE_RATE))
    goodbye = EspeakVoice("en-us").speak("Goodbye.")
    if channel == "sip":
        speech, goodbye = _by_phone(speech, lost_seed), _by_phone(goodbye)
    call = _run(app, [Line(speech, text), Line(goodbye, "Goodbye.")], channel=channel)
    said = _caller_turns(app, call)
    assert len(said) == 2, _stored_turns(app, call)
    assert "there" in said[0].lower() and "ordered" in said[0].lower(), said
