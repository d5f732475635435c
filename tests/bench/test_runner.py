"""Running series (the language hint each call gives, series run in pieces) and from recordings
to series: marks given to the turns they answered, both receive modes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pytest

from voice_agent.audio import AudioFrame
from voice_agent.bench.impairment import PROFILES
from voice_agent.bench.measures import PlayedTurn
from voice_agent.bench.player import LiveCall
from voice_agent.bench.relay import Profile
from voice_agent.bench.results import TurnKind
from voice_agent.bench.runner import (
    GIVE_UP_AFTER_FAILURES,
    RecordedCall,
    SeriesPlan,
    Target,
    run_series,
    series_of,
)
from voice_agent.bench.scenario import RenderedTurn, Renderer, Scenario, parse_scenario
from voice_agent.bench.timeline import CallRecording, HeardPacket, Microphone, StageMarks

RATE = 8000


def _call() -> RecordedCall:
    recording = CallRecording()
    microphone = Microphone(RATE, recording, now=lambda: 0.0)
    loud = np.where(np.arange(RATE) % 2, 6000, -6000).astype(np.int16)  # 1 s
    for utterance, start in ((0, 0.0), (1, 5.0)):
        microphone.say(AudioFrame(loud, RATE), utterance)
        at = start
        while microphone.speaking:
            microphone.take_frame(at)
            at += 0.02
    for start in (1.4, 6.25):  # the replies: 400 and 250 ms after each line
        recording.heard += [
            HeardPacket(start + n * 0.02, start + n * 0.02, loud[:160], RATE) for n in range(20)
        ]
    recording.stage_marks += [
        StageMarks(1.45, {"first_audio_sent": 390.0}),
        StageMarks(6.3, {"first_audio_sent": 240.0}),
    ]
    recording.ended_at = 9.0
    turns = [PlayedTurn(0, TurnKind.REPLY), PlayedTurn(1, TurnKind.REPLY)]
    return RecordedCall(Target("http://127.0.0.1:1"), 0, recording, turns)


def test_each_turn_gets_the_marks_of_the_reply_that_answered_it_in_both_modes() -> None:
    target = Target("http://127.0.0.1:1")
    plan = SeriesPlan("webrtc", PROFILES["clean"], 1, 2, (target,))
    plan.recorded.append(_call())
    (arrival,) = series_of(plan, "arrival", None)
    (browser,) = series_of(plan, "browser", None)
    assert [t.voice_to_voice_ms for t in arrival.turns] == [400.0, 250.0]
    assert [t.voice_to_voice_ms for t in browser.turns] == [460.0, 310.0]
    assert [t.stages_ms for t in arrival.turns] == [
        {"first_audio_sent": 390.0},
        {"first_audio_sent": 240.0},
    ]
    assert arrival.profile == "clean" and arrival.added_delay_ms == 0


# --- running series: the language hint each call gives, series taking turns ------------------


class _Refusing:
    """A dial that records what each call asked for and refuses it (the call fails at once)."""

    def __init__(self) -> None:
        self.hints: list[str | None] = []

    def __call__(
        self, target: Target, transport: str, profile: Profile, language: str | None
    ) -> contextlib.AbstractAsyncContextManager[LiveCall]:
        self.hints.append(language)
        return self._refused()

    @contextlib.asynccontextmanager
    async def _refused(self) -> AsyncIterator[LiveCall]:
        raise RuntimeError("busy")
        yield  # pragma: no cover - never reached: the call is refused


class _SilentRenderer:
    """Renders nothing, but keeps which voice each call was given."""

    def __init__(self) -> None:
        self.voices: list[str] = []

    def render(
        self, scenario: Scenario, call: int, voice: str, telephone: bool
    ) -> list[RenderedTurn]:
        self.voices.append(voice)
        return []


def _german_plan(hinted: bool, turns: int) -> SeriesPlan:
    target = Target("http://127.0.0.1:1")
    return SeriesPlan(
        "webrtc", PROFILES["clean"], 1, turns, (target,), language="de", hinted=hinted
    )


def _german_scenarios() -> list[Scenario]:
    return [
        parse_scenario({"name": f"de-{n}", "language": "de", "turns": [{"say": "Hallo."}]})
        for n in range(2)
    ]


@pytest.mark.parametrize(("hinted", "hint"), [(True, "de"), (False, None)])
def test_each_call_of_a_hinted_series_tells_the_agent_its_language(
    hinted: bool, hint: str | None
) -> None:
    dial, renderer = _Refusing(), _SilentRenderer()
    plan = _german_plan(hinted, turns=2)
    asyncio.run(run_series(plan, _german_scenarios(), cast(Renderer, renderer), dial))
    assert dial.hints == [hint, hint]
    (series,) = series_of(plan, "arrival", None)
    assert (series.language, series.hinted) == ("de", hinted)
    assert series.failures == ["call 0: busy", "call 1: busy"]


def test_a_series_run_in_pieces_goes_on_with_the_next_call_and_voice() -> None:
    dial, renderer = _Refusing(), _SilentRenderer()
    plan = _german_plan(True, turns=4)
    scenarios = _german_scenarios()
    for said in (1, 2):
        asyncio.run(run_series(plan, scenarios, cast(Renderer, renderer), dial, until=said))
        asyncio.run(  # a piece that asks for no more than was said has nothing to do
            run_series(plan, scenarios, cast(Renderer, renderer), dial, until=said)
        )
    assert [recorded.number for recorded in plan.recorded] == [0, 1]
    assert renderer.voices == ["de", "de"]  # the first round of two scenarios: the first voice
    asyncio.run(run_series(plan, scenarios, cast(Renderer, renderer), dial, until=5))
    assert plan.finished is True  # three refusals in a row: given up, not called forever
    assert len(plan.recorded) == 3 and renderer.voices[-1] == "de+m3"


def test_a_series_is_given_up_after_refusals_in_a_row_even_when_run_in_pieces() -> None:
    dial, renderer = _Refusing(), _SilentRenderer()
    plan = _german_plan(False, turns=20)
    while not plan.finished:
        asyncio.run(
            run_series(
                plan,
                _german_scenarios(),
                cast(Renderer, renderer),
                dial,
                until=len(plan.recorded) + 1,
            )
        )
    assert len(plan.recorded) == GIVE_UP_AFTER_FAILURES


@dataclass
class _EndedCall:
    """A call the agent has hung up on as soon as it was answered."""

    recording: CallRecording = field(default_factory=CallRecording)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.microphone = Microphone(RATE, self.recording, now=lambda: 0.0)
        self.ended.set()


class _LineRenderer:
    def render(
        self, scenario: Scenario, call: int, voice: str, telephone: bool
    ) -> list[RenderedTurn]:
        audio = AudioFrame(np.zeros(RATE, dtype=np.int16), RATE)
        return [RenderedTurn(scenario.turns[0], "Hallo.", audio, ())]


def test_a_call_the_agent_ends_before_the_first_line_is_a_failure_not_a_silent_turn() -> None:
    @contextlib.asynccontextmanager
    async def hung_up(
        target: Target, transport: str, profile: Profile, language: str | None
    ) -> AsyncIterator[LiveCall]:
        yield _EndedCall()

    plan = _german_plan(True, turns=5)
    asyncio.run(run_series(plan, _german_scenarios(), cast(Renderer, _LineRenderer()), hung_up))
    (series,) = series_of(plan, "arrival", None)
    assert series.turns == []
    assert series.failures == [
        f"call {n}: the agent ended the call before the caller said a line"
        for n in range(GIVE_UP_AFTER_FAILURES)
    ]
