"""Echo guard: tells the caller's own speech from the echo of the agent's playout.

On a phone line or a speakerphone without echo cancellation, the agent hears itself: delayed,
attenuated and band-limited. The playout is the reference: the echo of what was played in the
last `max_delay` can be no louder than that audio less the echo return loss, so input louder
than that bound (by a margin) is the caller talking, and input below it may be echo alone.
A double-talk detector in the manner of Geigel's, on 20 ms block powers instead of samples.
"""

from __future__ import annotations

import math

import numpy as np

from voice_agent.agent.playout import Playout
from voice_agent.audio import AudioFrame
from voice_agent.settings import EchoSettings


class EchoGuard:
    def __init__(self, settings: EchoSettings, playout: Playout) -> None:
        self._playout = playout
        self._max_delay = settings.max_delay_ms / 1000
        # Echo is at most reference - ERL; the caller must beat that bound by the margin.
        self._ratio = 10 ** ((settings.margin_db - settings.echo_return_loss_db) / 10)

    def caller_dominant(self, frame: AudioFrame) -> bool:
        """True when this input frame cannot be explained by the echo of recent playout."""
        power = _power(frame)
        reference = self._playout.reference(frame.timestamp - self._max_delay - frame.duration)
        loudest = max((block.power for block in reference if block.at <= frame.end), default=0.0)
        return power > loudest * self._ratio

    def echo_level_db(self, frame: AudioFrame) -> float:
        """How far above (+) or below (-) the echo bound this frame is, in dB (diagnostics)."""
        power = _power(frame) or 1e-9
        reference = self._playout.reference(frame.timestamp - self._max_delay - frame.duration)
        loudest = max((block.power for block in reference), default=0.0) * self._ratio or 1e-9
        return 10 * math.log10(power / loudest)


def _power(frame: AudioFrame) -> float:
    if len(frame.samples) == 0:
        return 0.0
    return float(np.mean(np.square(frame.samples.astype(np.float64))))
