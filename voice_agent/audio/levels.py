"""Signal levels in dBFS (full scale = int16 peak)."""

from __future__ import annotations

import math

import numpy as np

from voice_agent.audio.frame import AudioFrame, Int16Array

SILENCE_DBFS = -120.0


def rms_dbfs(samples: Int16Array) -> float:
    if len(samples) == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))
    return SILENCE_DBFS if rms <= 0 else max(SILENCE_DBFS, 20 * math.log10(rms / 32768.0))


def peak_dbfs(samples: Int16Array) -> float:
    if len(samples) == 0:
        return SILENCE_DBFS
    peak = float(np.max(np.abs(samples.astype(np.int32))))
    return SILENCE_DBFS if peak <= 0 else max(SILENCE_DBFS, 20 * math.log10(peak / 32768.0))


def gain(frame: AudioFrame, db: float) -> AudioFrame:
    scaled = frame.samples.astype(np.float32) * (10 ** (db / 20))
    clipped = np.clip(np.round(scaled), -32768, 32767).astype(np.int16)
    return AudioFrame(clipped, frame.rate, frame.timestamp)
