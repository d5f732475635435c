"""A telephone line simulated: 8 kHz, 300-3400 Hz band, G.711 companding.

Tests and benchmarks use it to hear what a SIP caller sounds like after the network: speech
is band-limited, resampled to 8 kHz, mu-law (or A-law) encoded and decoded, and brought back
to the pipeline rate, as the SIP transport would do.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from voice_agent.audio.filters import band_pass_taps
from voice_agent.audio.frame import PIPELINE_RATE, AudioFrame
from voice_agent.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from voice_agent.audio.resample import resample

TELEPHONE_RATE = 8000
TELEPHONE_BAND_HZ = (300.0, 3400.0)
"""The classic voice channel of the public telephone network (ITU-T G.712)."""

Law = Literal["ulaw", "alaw"]


def telephone_line(frame: AudioFrame, law: Law = "ulaw") -> AudioFrame:
    """`frame` as it arrives over a telephone line: 8 kHz, band-limited, G.711 quantised."""
    narrow = resample(frame, TELEPHONE_RATE)
    # A linear-phase FIR cut back by its group delay keeps speech where it was: no added delay.
    taps = band_pass_taps(*TELEPHONE_BAND_HZ, TELEPHONE_RATE)
    delay = (len(taps) - 1) // 2
    full = np.convolve(narrow.samples.astype(np.float64), taps) if len(narrow.samples) else taps[:0]
    filtered = full[delay : delay + len(narrow.samples)]
    pcm = np.clip(np.round(filtered), -32768, 32767).astype(np.int16)
    coded = ulaw_decode(ulaw_encode(pcm)) if law == "ulaw" else alaw_decode(alaw_encode(pcm))
    return AudioFrame(coded, TELEPHONE_RATE, frame.timestamp)


def through_telephone(
    frame: AudioFrame, rate: int = PIPELINE_RATE, law: Law = "ulaw"
) -> AudioFrame:
    """`frame` after a telephone line, brought back to `rate` (16 kHz: what ASR hears)."""
    return resample(telephone_line(frame, law), rate)
