"""Speech segments from per-window speech probabilities: hysteresis, minimum speech, hangover.

Both engines feed it: webrtcvad as 0 or 1, Silero as a probability. A run of windows at or above
`start_threshold` (then at or above `end_threshold`) is speech once its sound has stood out of
the noise for `start_s`; speech ends once the audio after its sound has been a pause for
`hangover_s`. Events carry the boundary's time in the audio: where the sound first stood out of
the noise (inside the engine's run, or in an unbroken run of sound just before it), and where it
last did, at most `end_lookback_s` before the engine's last speech window (engines go on
scoring speech a while after it stops). Waiting delays the report, never the boundary.

The engine's own hangover (webrtcvad goes on scoring speech for 90-150 ms) and ours come before
SPEECH_END; the loudness already shows the sound stopping. With `pause_s` set, a PAUSE is
reported once the sound has been quiet that long, with the boundary SPEECH_END will carry, so
the work that waits for the caller to finish can begin ~200 ms sooner; a RESUME follows if
sound comes back before SPEECH_END.
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_agent.stages.vad import VadEvent, VadEventKind
from voice_agent.stages.vad.energy import EnergyTrail
from voice_agent.stages.vad.framing import Window

START_LOOKBACK_S = 0.1
"""How far before the engine's first speech window an unbroken run of sound may move the start."""
_QUIET_LOOKBACK_S = 0.5
"""How far back the loudness is searched for where the sound last stood out."""
_EPSILON_S = 1e-6
"""Window times are sums of floats: a run of exactly `start_s` must count as long enough."""


@dataclass(frozen=True, slots=True)
class SegmenterSettings:
    start_threshold: float
    end_threshold: float
    start_s: float
    hangover_s: float
    end_lookback_s: float = 0.0
    """How long the engine may go on scoring speech after the sound has stopped."""
    pause_s: float | None = None
    """Quiet this long after the sound reports a PAUSE (None: never; only if under the
    hangover)."""

    def __post_init__(self) -> None:
        if self.end_threshold > self.start_threshold:
            raise ValueError(
                f"end threshold {self.end_threshold} above start threshold {self.start_threshold}"
            )


class SpeechSegmenter:
    def __init__(self, settings: SegmenterSettings) -> None:
        self._settings = settings
        self._trail = EnergyTrail(keep_s=max(1.0, 2 * settings.end_lookback_s))
        self.reset()

    def reset(self) -> None:
        self._trail.reset()
        self._speaking = False
        self._candidate_start: float | None = None
        self._onset = 0.0
        self._last_speech_end = 0.0
        self._end: float | None = None
        """Where the current pause began, once the engine has called a window silent."""
        self._paused_at: float | None = None
        """The boundary of the PAUSE reported and not yet resumed or ended."""

    def push(self, probability: float, window: Window) -> VadEvent | None:
        """One window's speech probability; the event it completes, if any."""
        self._trail.observe(window, speech=probability >= self._settings.end_threshold)
        if self._speaking:
            return self._while_speaking(probability, window)
        return self._while_silent(probability, window)

    def _while_silent(self, probability: float, window: Window) -> VadEvent | None:
        settings = self._settings
        threshold = (
            settings.start_threshold if self._candidate_start is None else settings.end_threshold
        )
        if probability < threshold:
            self._candidate_start = None
            return None
        if self._candidate_start is None:
            self._candidate_start = window.start
        # Speech begins where its sound first stands out of the noise: a run the engine calls
        # speech that never does is noise, and one that starts in noise starts later.
        onset = self._trail.sound_start(self._candidate_start, window.end)
        if onset is None or window.end - onset + _EPSILON_S < settings.start_s:
            return None
        # An engine may need a window or two of a soft onset ("h", "k") before it scores speech.
        onset = self._trail.loud_since(onset, onset - START_LOOKBACK_S)
        self._speaking = True
        self._onset = onset
        self._candidate_start = None
        self._last_speech_end = window.end
        self._end = None
        self._paused_at = None
        return VadEvent(VadEventKind.SPEECH_START, onset)

    def _while_speaking(self, probability: float, window: Window) -> VadEvent | None:
        if probability >= self._settings.end_threshold and self._resumes(window):
            self._last_speech_end = window.end
            self._end = None
            earliest = max(self._onset, window.end - _QUIET_LOOKBACK_S)
            return self._pause_or_resume(self._trail.sound_end(earliest, window.end), window)
        if self._end is None:
            self._end = self._sound_end()
        if window.end - self._end + _EPSILON_S < self._settings.hangover_s:
            return self._pause_or_resume(self._end, window)
        self._speaking = False
        self._paused_at = None
        return VadEvent(VadEventKind.SPEECH_END, self._end)

    def _pause_or_resume(self, sound_end: float, window: Window) -> VadEvent | None:
        """PAUSE once the sound ending at `sound_end` has been quiet for `pause_s`; RESUME when
        sound stands out again after a PAUSE."""
        pause_s = self._settings.pause_s
        if pause_s is None or pause_s + _EPSILON_S >= self._settings.hangover_s:
            return None
        if self._paused_at is not None:
            if sound_end <= self._paused_at + _EPSILON_S:
                return None
            self._paused_at = None
            return VadEvent(VadEventKind.RESUME, window.start)
        if window.end - sound_end + _EPSILON_S < pause_s:
            return None
        self._paused_at = sound_end
        return VadEvent(VadEventKind.PAUSE, sound_end)

    def _resumes(self, window: Window) -> bool:
        """Whether a window the engine calls speech goes on with it: always before a pause;
        during one, only if it holds sound above the noise (engines flag noise bursts too)."""
        if self._end is None:
            return True
        return self._trail.sound_start(window.start, window.end) is not None

    def _sound_end(self) -> float:
        earliest = max(self._onset, self._last_speech_end - self._settings.end_lookback_s)
        return self._trail.sound_end(earliest, self._last_speech_end)
