"""EnergyTrail: slice levels without rumble, a noise floor from non-speech, where sound ends."""

from __future__ import annotations

import numpy as np
import pytest

from tests.stages.vad.clips import Noise, noisy_clip
from voice_agent.stages.vad.energy import EnergyTrail, slice_levels_db
from voice_agent.stages.vad.framing import Window, WindowFramer


def test_slice_levels_ignore_a_slow_drift() -> None:
    clip = noisy_clip("en-gb+f3", 8000, "white")
    noise = clip.audio.samples[:256].astype(np.int32)
    drift = np.linspace(-3000, 3000, 256)
    drifting = np.clip(noise + drift, -32768, 32767).astype(np.int16)
    plain, drifted = slice_levels_db(clip.audio.samples[:256], 3), slice_levels_db(drifting, 3)
    assert len(plain) == len(drifted) == 4  # 256 samples split evenly: 4 slices of 8 ms
    assert drifted == pytest.approx(plain, abs=0.5)


@pytest.mark.parametrize("noise", ["white", "pink"])
def test_the_floor_is_the_noise_level_and_speech_stands_out(noise: Noise) -> None:
    clip = noisy_clip("en-us", 16000, noise)
    first_start, first_end = clip.speech[0]
    trail = EnergyTrail()
    started_at = None
    for window in WindowFramer(16000, 160).push(clip.audio):
        speech = first_start <= window.start and window.end <= first_end + 0.1
        trail.observe(window, speech)
        if started_at is None and window.end >= first_start + 0.2:
            started_at = trail.sound_start(first_start - 0.3, window.end)
        if window.end >= first_end + 0.3:
            break
    lead = clip.audio.slice(0, first_start - clip.audio.timestamp).samples
    noise_db = float(np.mean(slice_levels_db(lead[: len(lead) // 160 * 160], len(lead) // 160)))
    assert trail.floor_db == pytest.approx(noise_db, abs=1.0)
    assert started_at == pytest.approx(first_start, abs=0.011)
    assert trail.sound_end(first_end - 0.15, first_end + 0.1) == pytest.approx(first_end, abs=0.011)
    assert trail.sound_start(first_end + 0.05, first_end + 0.25) is None
    assert trail.sound_end(first_end + 0.05, first_end + 0.25) == pytest.approx(first_end + 0.05)


def test_without_a_floor_nothing_moves() -> None:
    trail = EnergyTrail()
    assert trail.sound_end(1.0, 2.0) == 2.0
    assert trail.sound_start(1.0, 2.0) == 1.0


def test_digital_silence_does_not_teach_the_floor() -> None:
    clip = noisy_clip("en-gb+f3", 8000, "white")
    windows = WindowFramer(8000, 80).push(clip.audio.slice(0, 0.5))
    trail = EnergyTrail()
    for window in windows:
        trail.observe(window, speech=False)
    learnt = trail.floor_db
    zeros = Window(np.zeros(80, dtype=np.int16), windows[-1].end, windows[-1].end + 0.01)
    for _ in range(300):
        trail.observe(zeros, speech=False)
    assert learnt is not None
    assert trail.floor_db == learnt
