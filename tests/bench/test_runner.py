"""From recordings to series: marks given to the turns they answered, both receive modes."""

from __future__ import annotations

import numpy as np

from voice_agent.audio import AudioFrame
from voice_agent.bench.impairment import PROFILES
from voice_agent.bench.measures import PlayedTurn
from voice_agent.bench.results import TurnKind
from voice_agent.bench.runner import RecordedCall, SeriesPlan, Target, series_of
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
