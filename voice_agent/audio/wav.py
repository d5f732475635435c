"""Reading and writing WAV files (PCM 16-bit, 8-bit or float; mono or mixed down)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from voice_agent.audio.frame import AudioFrame


class WavError(ValueError):
    """A file that is not a WAV we can read; the message says what is wrong."""


def read_wav(path: Path) -> AudioFrame:
    try:
        with wave.open(str(path), "rb") as handle:
            channels = handle.getnchannels()
            width = handle.getsampwidth()
            rate = handle.getframerate()
            raw = handle.readframes(handle.getnframes())
    except FileNotFoundError:
        raise WavError(f"{path}: no such file") from None
    except (wave.Error, EOFError) as error:
        raise WavError(f"{path}: not a readable PCM WAV file ({error})") from None
    if width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.int32)
    elif width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.int32) - 128) << 8
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.int64) >> 16
    else:
        raise WavError(f"{path}: unsupported sample width {width * 8} bits")
    if channels > 1:
        usable = len(data) - len(data) % channels
        data = data[:usable].reshape(-1, channels).mean(axis=1)
    return AudioFrame(np.asarray(data, dtype=np.int16), rate)


def write_wav(path: Path, frame: AudioFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(frame.rate)
        handle.writeframes(frame.samples.astype("<i2").tobytes())
