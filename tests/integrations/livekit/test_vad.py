"""Our VAD through LiveKit's VAD interface, on real speech (espeak-ng) at a room's rate."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import vad as lk_vad

from tests.integrations.livekit.speech import ROOM_RATE, padded, room_frames
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.bench.voices import espeak
from voice_agent.integrations.livekit.vad import PRE_ROLL_S, SpeechTrack, VoiceAgentVAD

pytestmark = pytest.mark.slow

LEAD_S, TRAIL_S = 0.6, 1.2


async def _events(vad: VoiceAgentVAD, frames: list[rtc.AudioFrame]) -> list[lk_vad.VADEvent]:
    stream = vad.stream()
    for frame in frames:
        stream.push_frame(frame)
    stream.end_input()
    events = [event async for event in stream]
    await stream.aclose()
    return events


def test_start_and_end_of_speech_carry_the_utterance(app: App) -> None:
    speech = espeak("Please send me a new one.")  # no pause inside it for the VAD to end at
    frames = room_frames(padded(speech, LEAD_S, TRAIL_S))
    events = asyncio.run(_events(VoiceAgentVAD(app.new_vad), frames))

    done = [e for e in events if e.type is lk_vad.VADEventType.INFERENCE_DONE]
    bounds = [e for e in events if e.type is not lk_vad.VADEventType.INFERENCE_DONE]
    assert len(done) == len(frames)  # one per frame pushed
    assert [e.type for e in bounds] == [
        lk_vad.VADEventType.START_OF_SPEECH,
        lk_vad.VADEventType.END_OF_SPEECH,
    ]
    start, end = bounds
    speech_end = LEAD_S + speech.duration
    assert LEAD_S < start.timestamp < LEAD_S + 0.5  # reported soon after the speech began
    assert speech_end < end.timestamp < speech_end + TRAIL_S
    assert end.speech_duration == pytest.approx(speech.duration, abs=0.15)
    heard = sum(frame.duration for frame in end.frames)
    assert heard == pytest.approx(speech.duration, abs=0.3)
    assert {frame.sample_rate for frame in end.frames} == {ROOM_RATE}
    # while speaking the frames are speech; the last report is silence since the end
    assert any(e.speaking for e in done)
    assert not done[-1].speaking and done[-1].silence_duration > 0.5


def test_silence_alone_is_no_speech(app: App) -> None:
    frames = room_frames(AudioFrame.silence(1.5))
    events = asyncio.run(_events(VoiceAgentVAD(app.new_vad), frames))
    assert {e.type for e in events} == {lk_vad.VADEventType.INFERENCE_DONE}
    assert not any(e.speaking for e in events)


def _heard(track: SpeechTrack, seconds: float) -> None:
    for index in range(round(seconds / 0.01)):
        track.heard(AudioFrame(np.full(160, index, dtype=np.int16), 16_000, index * 0.01))


def test_the_track_starts_at_the_boundary_from_the_audio_before_the_report() -> None:
    track = SpeechTrack()
    _heard(track, 0.5)
    track.start(0.305)
    assert track.speaking
    assert track.audio[0].timestamp == pytest.approx(0.305)
    assert len(track.audio[0].samples) == 80  # the second half of the frame at 0.30
    assert sum(frame.duration for frame in track.audio) == pytest.approx(0.195)
    track.heard(AudioFrame.silence(0.01, 16_000, 0.5))
    audio = track.end(0.505)
    assert sum(frame.duration for frame in audio) == pytest.approx(0.205)
    assert not track.speaking and track.silent_since == 0.505


def test_the_track_keeps_one_second_before_speech() -> None:
    track = SpeechTrack()
    _heard(track, 3.0)
    track.start(0.2)  # a boundary further back than anything kept
    kept = sum(frame.duration for frame in track.audio)
    assert kept == pytest.approx(PRE_ROLL_S, abs=0.011)
