"""LiveKit's interleaved int16 frames and our mono frames."""

from __future__ import annotations

import numpy as np
from livekit import rtc

from voice_agent.audio import AudioFrame
from voice_agent.integrations.livekit.frames import from_rtc, to_rtc


def test_mono_round_trip_keeps_every_sample_and_the_rate() -> None:
    samples = np.arange(-480, 480, dtype=np.int16) * 30
    ours = AudioFrame(samples, 48_000)
    theirs = to_rtc(ours)
    assert (theirs.sample_rate, theirs.num_channels, theirs.samples_per_channel) == (48_000, 1, 960)
    back = from_rtc(theirs, timestamp=1.5)
    assert np.array_equal(back.samples, samples)
    assert (back.rate, back.timestamp) == (48_000, 1.5)


def test_stereo_is_averaged_to_mono() -> None:
    left = np.array([1000, -2000, 32767], dtype=np.int16)
    right = np.array([3000, 2000, 32767], dtype=np.int16)
    interleaved = np.stack([left, right], axis=1).reshape(-1)
    frame = rtc.AudioFrame(interleaved.tobytes(), 16_000, 2, 3)
    assert from_rtc(frame).samples.tolist() == [2000, 0, 32767]


def test_our_frame_does_not_share_the_rtc_buffer() -> None:
    buffer = bytearray(np.ones(160, dtype=np.int16).tobytes())
    ours = from_rtc(rtc.AudioFrame(buffer, 16_000, 1, 160))
    buffer[:] = bytes(len(buffer))  # the producer reuses its buffer
    assert ours.samples.sum() == 160
