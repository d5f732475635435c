"""webrtcvad (the WebRTC GMM detector): 10, 20 or 30 ms windows at 8, 16, 32 or 48 kHz."""

from __future__ import annotations

import logging

import webrtcvad

from voice_agent.audio import PIPELINE_RATE
from voice_agent.audio.frame import Int16Array
from voice_agent.settings import VadSettings
from voice_agent.stages.vad.framed import FramedVad
from voice_agent.stages.vad.segmenter import SegmenterSettings

logger = logging.getLogger(__name__)

NATIVE_RATES = (8000, 16000, 32000, 48000)
WINDOW_MS = (10, 20, 30)
_OVERHANG_WINDOWS = {  # webrtc vad_core.c kOverHangMax2*: windows flagged after speech stops
    (0, 10): 14,
    (0, 20): 7,
    (0, 30): 5,
    (1, 10): 14,
    (1, 20): 7,
    (1, 30): 5,
    (2, 10): 9,
    (2, 20): 5,
    (2, 30): 3,
    (3, 10): 9,
    (3, 20): 5,
    (3, 30): 3,
}
_LOOKBACK_MARGIN_S = 0.05


class WebrtcClassifier:
    """Speech (1.0) or not (0.0) per window; the detector adapts its noise model as it goes."""

    def __init__(self, aggressiveness: int, rate: int, window_ms: int) -> None:
        if rate not in NATIVE_RATES:
            raise ValueError(f"webrtcvad runs at {NATIVE_RATES} Hz, not {rate}")
        if window_ms not in WINDOW_MS:
            raise ValueError(f"webrtcvad takes {WINDOW_MS} ms windows, not {window_ms}")
        self._aggressiveness = aggressiveness
        self._rate = rate
        self._window_size = rate * window_ms // 1000
        self.overhang_s = _OVERHANG_WINDOWS[aggressiveness, window_ms] * window_ms / 1000
        """How long the detector keeps flagging speech after it stops (its own hangover)."""
        self._detector = webrtcvad.Vad(aggressiveness)

    @property
    def rate(self) -> int:
        return self._rate

    @property
    def window_size(self) -> int:
        return self._window_size

    def speech_probability(self, window: Int16Array) -> float:
        return 1.0 if self._detector.is_speech(window.astype("<i2").tobytes(), self._rate) else 0.0

    def reset(self) -> None:
        # A fresh detector forgets the noise level it learnt from the previous audio.
        self._detector = webrtcvad.Vad(self._aggressiveness)


def engine_rate(input_rate: int) -> int:
    """The input rate where webrtcvad takes it as is, else the pipeline rate."""
    return input_rate if input_rate in NATIVE_RATES else PIPELINE_RATE


def webrtc_vad(settings: VadSettings, rate: int) -> FramedVad:
    classifier = WebrtcClassifier(
        settings.webrtc_aggressiveness, engine_rate(rate), settings.webrtc_window_ms
    )
    segments = SegmenterSettings(
        start_threshold=0.5,
        end_threshold=0.5,
        start_s=settings.start_ms / 1000,
        hangover_s=settings.hangover_ms / 1000,
        pause_s=settings.pause_ms / 1000 if settings.pause_ms else None,
        end_lookback_s=classifier.overhang_s + _LOOKBACK_MARGIN_S,
    )
    return FramedVad(classifier, segments)
