"""Loudness onsets: when does sound in the caller's audio stand out like speech?

The VAD is the judge of speech, but it is slow to say so (it wants `start_ms` of it) and it
hears nothing the echo guard holds back. Two decisions cannot wait for it: whether a turn about
to commit should hold because the caller audibly went on (`resuming`), and where a caller who
talks over the reply began (`caller_onset`: the reply pauses there, within a couple of frames).
Both read the same evidence: frames louder than the noise floor by a speech-like margin, the
floor tracked on every frame. That evidence and the audio kept from just before an onset (so
the first syllable reaches the ASR) are this machine's state; it holds no clock and does no
I/O, so it is fed every frame and asked about times it is given.
"""

from __future__ import annotations

from collections import deque

from voice_agent.audio import AudioFrame
from voice_agent.audio.levels import rms_dbfs

_PREROLL_S = 0.3
"""Audio kept from before a detected onset, so the first syllable reaches the ASR."""
_PREROLL_FRAMES = 32
_NOISE_RISE_DB_PER_FRAME = 0.02
"""The floor drops at once to a quieter frame but rises slowly: speech barely lifts it."""
_INITIAL_NOISE_FLOOR_DBFS = -70.0
_SPEECH_ABOVE_NOISE_DB = 12.0
_SPEECH_FLOOR_DBFS = -55.0
_RESUME_CONFIRM_S = 0.3
"""Longer than any VAD takes to confirm speech (start_ms, 100 ms by default) plus a frame."""


class OnsetDetector:
    """Fed every frame of the caller's audio (`hear`), in order; asked about onsets."""

    def __init__(self, min_onset_frames: int) -> None:
        self._min_onset_frames = min_onset_frames
        self._noise_floor_db = _INITIAL_NOISE_FLOOR_DBFS
        self._sound_since: float | None = None
        """Start of the run of frames, up to now, that stand out of the noise like speech."""
        self._onset_run = 0
        """Frames in a row, over the reply, both speech-like and beyond the echo's reach."""
        self._preroll: deque[AudioFrame] = deque(maxlen=_PREROLL_FRAMES)

    def hear(self, frame: AudioFrame) -> None:
        """Take the next frame: it extends or ends the speech-like run, moves the noise floor
        and joins the audio kept for a later onset."""
        level = rms_dbfs(frame.samples)
        # Judged against the floor as it stood before this frame, which then moves the floor.
        if not self._stands_out(level):
            self._sound_since = None
        elif self._sound_since is None:
            self._sound_since = frame.timestamp
        self._noise_floor_db = min(level, self._noise_floor_db + _NOISE_RISE_DB_PER_FRAME)
        self._preroll.append(frame)

    @property
    def sounding(self) -> bool:
        """The last frame heard stood out of the noise like speech."""
        return self._sound_since is not None

    def resuming(self, now: float) -> bool:
        """Sound like speech has just begun again, and the VAD may yet confirm it (the VAD
        wants `start_ms` of it): no turn commits on it. Sound going on longer unconfirmed is
        noise, and holds nothing."""
        since = self._sound_since
        return since is not None and now - since <= _RESUME_CONFIRM_S

    def caller_onset(self, frame: AudioFrame, caller_dominant: bool) -> float | None:
        """Fed the frame just heard, each frame the reply plays (and only then), with whether
        the echo guard found the caller louder than the reply's echo in it. Returns the onset
        of the caller's speech once `min_onset_frames` such frames in a row stood out; the run
        then starts again. A run over frames not fed here is neither broken nor extended."""
        if self._sound_since is not None and caller_dominant:
            self._onset_run += 1
        else:
            self._onset_run = 0
        needed = self._min_onset_frames
        if self._onset_run < needed:
            return None
        self._onset_run = 0
        return frame.timestamp - (needed - 1) * frame.duration

    def audio_from(self, onset: float) -> list[AudioFrame]:
        """The frames kept that reach into the preroll before `onset`, oldest first."""
        start = onset - _PREROLL_S
        return [frame for frame in self._preroll if frame.end > start]

    def _stands_out(self, level_db: float) -> bool:
        return level_db > max(_SPEECH_FLOOR_DBFS, self._noise_floor_db + _SPEECH_ABOVE_NOISE_DB)
