"""LiveKit's `rtc.AudioFrame` (interleaved int16 bytes) and our mono int16 `AudioFrame`."""

from __future__ import annotations

import numpy as np
from livekit import rtc

from voice_agent.audio import AudioFrame


def from_rtc(frame: rtc.AudioFrame, timestamp: float = 0.0) -> AudioFrame:
    """Our mono frame: channels averaged (a room's track may be stereo)."""
    samples = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels > 1:
        interleaved = samples.reshape(-1, frame.num_channels).astype(np.int32)
        samples = interleaved.mean(axis=1).astype(np.int16)
    else:
        samples = samples.copy()  # the rtc frame's buffer may be reused by its producer
    return AudioFrame(samples, frame.sample_rate, timestamp)


def to_rtc(frame: AudioFrame) -> rtc.AudioFrame:
    return rtc.AudioFrame(
        data=frame.samples.tobytes(),
        sample_rate=frame.rate,
        num_channels=1,
        samples_per_channel=len(frame.samples),
    )
