"""Echo guard: tells the caller's own speech from the echo of the agent's playout.

On a phone line or a speakerphone without echo cancellation, the agent hears itself: delayed,
attenuated and band-limited. The playout is the reference: the echo of what was played in the
last `max_delay` can be no louder than that audio less the echo return loss, so input louder
than that bound (by a margin) is the caller talking, and input below it may be echo alone.
A double-talk detector in the manner of Geigel's, on 20 ms block powers instead of samples.

The configured return loss is the worst case (a line's hybrid gives at least 6 dB). Most lines
return far less echo, and a caller talking over the agent is often quieter than the agent: so
the guard also measures the echo actually coming back while the agent speaks alone, and once
it has heard enough of it, bounds the echo by that measure plus a margin (never by more than
the worst case). A caller then barges in as soon as their voice stands out of the real echo.
"""

from __future__ import annotations

import math
import re
from collections import deque

import numpy as np

from voice_agent.agent.playout import Playout
from voice_agent.audio import AudioFrame
from voice_agent.settings import EchoSettings

_EVIDENCE_FRAMES = 50
"""The echo measure is the loudest of the last second of frames heard while the agent spoke."""
_ENOUGH_EVIDENCE = 25
"""Half a second of it before the measure replaces the worst case."""
_AUDIBLE_REFERENCE = 32768.0**2 * 10 ** (-50 / 10)
"""Playout quieter than -50 dBFS says nothing about the echo path."""
_RECENT_FRAMES = 25
"""Frames above the bound kept, to learn from if they turn out to have been echo after all."""
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ECHO_WORD_SHARE = 0.8
_ECHO_MIN_WORDS = 3


class EchoGuard:
    def __init__(self, settings: EchoSettings, playout: Playout) -> None:
        self._playout = playout
        self._max_delay = settings.max_delay_ms / 1000
        # Echo is at most reference - ERL; the caller must beat that bound by the margin.
        self._worst_ratio = 10 ** ((settings.margin_db - settings.echo_return_loss_db) / 10)
        self._adaptive = settings.adaptive
        self._adapt_margin = 10 ** (settings.adaptive_margin_db / 10)
        self._least_ratio = 10 ** (-settings.adaptive_floor_db / 10)
        self._evidence: deque[float] = deque(maxlen=_EVIDENCE_FRAMES)
        self._above: deque[float] = deque(maxlen=_RECENT_FRAMES)

    @property
    def playout(self) -> Playout:
        return self._playout

    @property
    def ratio(self) -> float:
        """The loudest input, as a share of the loudest recent playout, that echo can explain."""
        if not self._adaptive or len(self._evidence) < _ENOUGH_EVIDENCE:
            return self._worst_ratio
        measured = max(self._evidence) * self._adapt_margin
        return min(self._worst_ratio, max(self._least_ratio, measured))

    def caller_dominant(self, frame: AudioFrame) -> bool:
        """True when this input frame cannot be explained by the echo of recent playout.

        Frames heard while the agent is audible and judged echo teach the guard the echo level;
        not while the reply is paused: a barge-in is under way, and the caller's quieter sounds
        taken for echo would raise the bound 6 dB at a time until the caller is not heard.
        """
        power = _power(frame)
        loudest = self._loudest_reference(frame)
        dominant = power > loudest * self.ratio
        if loudest >= _AUDIBLE_REFERENCE and not self._playout.paused:
            (self._above if dominant else self._evidence).append(power / loudest)
        return dominant

    def was_echo(self) -> None:
        """The recent input above the bound was the agent's own voice after all (its words came
        back): count it as echo, so the bound rises to cover it."""
        self._evidence.extend(self._above)
        self._above.clear()

    def echo_level_db(self, frame: AudioFrame) -> float:
        """How far above (+) or below (-) the echo bound this frame is, in dB (diagnostics)."""
        power = _power(frame) or 1e-9
        bound = self._loudest_reference(frame) * self.ratio or 1e-9
        return 10 * math.log10(power / bound)

    def _loudest_reference(self, frame: AudioFrame) -> float:
        reference = self._playout.reference(frame.timestamp - self._max_delay - frame.duration)
        return max((block.power for block in reference if block.at <= frame.end), default=0.0)


def repeats_reply(heard: str, reply: str) -> bool:
    """Whether words heard over the reply are (nearly all) the reply's own, in its order: its
    echo coming back louder than the guard expected, not the caller."""
    words = _WORD.findall(heard.lower())
    if len(words) < _ECHO_MIN_WORDS:
        return False
    said = _WORD.findall(reply.lower())
    position = matched = 0
    for word in words:
        if word in said[position:]:
            position = said.index(word, position) + 1
            matched += 1
    return matched >= _ECHO_WORD_SHARE * len(words)


def _power(frame: AudioFrame) -> float:
    if len(frame.samples) == 0:
        return 0.0
    return float(np.mean(np.square(frame.samples.astype(np.float64))))
