"""Real speech as a LiveKit room delivers it: 48 kHz, 10 ms rtc.AudioFrames."""

from __future__ import annotations

from livekit import rtc

from voice_agent.audio import AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.integrations.livekit.frames import to_rtc

ROOM_RATE = 48_000


def padded(speech: AudioFrame, before_s: float, after_s: float) -> AudioFrame:
    """The speech with silence around it (so the VAD sees it begin and end)."""
    return AudioFrame.concat(
        [
            AudioFrame.silence(before_s, speech.rate),
            speech,
            AudioFrame.silence(after_s, speech.rate),
        ]
    )


def room_frames(audio: AudioFrame, frame_s: float = 0.01) -> list[rtc.AudioFrame]:
    return [to_rtc(chunk) for chunk in resample(audio, ROOM_RATE).chunks(frame_s)]
