"""The loudness onset detector on scripted frames with explicit times (no VAD, no session)."""

from tests.fakes.stages import burst
from voice_agent.agent.onset import OnsetDetector
from voice_agent.audio import AudioFrame

_FRAME_S = 0.02


def _sound(start: float, seconds: float, dbfs: float) -> list[AudioFrame]:
    """Noise at a level as 20 ms frames from `start`."""
    return AudioFrame(burst(seconds, dbfs).samples, 16000, start).chunks(_FRAME_S)


def _silence(start: float, seconds: float) -> list[AudioFrame]:
    return AudioFrame.silence(seconds, timestamp=start).chunks(_FRAME_S)


def _hear(detector: OnsetDetector, frames: list[AudioFrame]) -> None:
    for frame in frames:
        detector.hear(frame)


def test_speech_just_begun_holds_a_turn_only_while_the_vad_may_yet_confirm_it() -> None:
    detector = OnsetDetector(min_onset_frames=2)
    _hear(detector, _silence(0.0, 1.0))
    assert not detector.resuming(1.0)
    _hear(detector, _sound(1.0, 0.1, -20))
    assert detector.resuming(1.1)
    _hear(detector, _sound(1.1, 0.3, -20))
    assert not detector.resuming(1.4)  # that long unconfirmed: a noise


def test_silence_ends_the_run_of_speechlike_sound() -> None:
    detector = OnsetDetector(min_onset_frames=2)
    _hear(detector, _silence(0.0, 1.0) + _sound(1.0, 0.1, -20) + _silence(1.1, 0.04))
    assert not detector.resuming(1.14)


def test_a_steady_noise_rises_into_the_floor_and_speech_must_stand_out_of_it() -> None:
    detector = OnsetDetector(min_onset_frames=2)
    _hear(detector, _sound(0.0, 0.1, -50))
    assert detector.resuming(0.1)  # a new sound, as loud as speech can be quiet
    _hear(detector, _sound(0.1, 30.0, -50))  # the floor rises 1 dB a second into the hiss
    _hear(detector, _sound(30.1, 0.1, -45))
    assert not detector.resuming(30.2)
    _hear(detector, _sound(30.2, 0.1, -20))
    assert detector.resuming(30.3)


def test_sound_below_the_speech_floor_never_counts_even_after_silence() -> None:
    detector = OnsetDetector(min_onset_frames=2)
    _hear(detector, _silence(0.0, 1.0) + _sound(1.0, 0.1, -60))
    assert not detector.resuming(1.1)


def _onsets(
    detector: OnsetDetector, frames: list[AudioFrame], dominant: list[bool]
) -> list[float | None]:
    """Hear each frame, then ask for an onset over the reply as the session does."""
    onsets: list[float | None] = []
    for frame, caller_dominant in zip(frames, dominant, strict=True):
        detector.hear(frame)
        onsets.append(detector.caller_onset(frame, caller_dominant))
    return onsets


def test_a_caller_onset_over_the_reply_is_dated_to_its_first_frame() -> None:
    detector = OnsetDetector(min_onset_frames=2)
    _hear(detector, _silence(0.0, 1.0))
    onsets = _onsets(detector, _sound(1.0, 0.04, -20), [True, True])
    assert onsets[0] is None
    assert onsets[1] is not None and abs(onsets[1] - 1.0) < 1e-9


def test_frames_the_echo_guard_explains_break_the_onset_run() -> None:
    detector = OnsetDetector(min_onset_frames=2)
    _hear(detector, _silence(0.0, 1.0))
    onsets = _onsets(detector, _sound(1.0, 0.08, -20), [True, False, True, False])
    assert onsets == [None, None, None, None]


def test_quiet_frames_break_the_onset_run_though_the_echo_guard_passes_them() -> None:
    detector = OnsetDetector(min_onset_frames=2)
    _hear(detector, _silence(0.0, 1.0))
    frames = [*_sound(1.0, 0.02, -20), *_silence(1.02, 0.02), *_sound(1.04, 0.02, -20)]
    assert _onsets(detector, frames, [True, True, True]) == [None, None, None]


def test_the_run_starts_again_after_an_onset() -> None:
    detector = OnsetDetector(min_onset_frames=2)
    _hear(detector, _silence(0.0, 1.0))
    onsets = _onsets(detector, _sound(1.0, 0.1, -20), [True] * 5)
    found = [round(onset, 6) for onset in onsets if onset is not None]
    assert found == [1.0, 1.04]


def test_the_audio_of_an_onset_reaches_back_over_the_preroll() -> None:
    detector = OnsetDetector(min_onset_frames=2)
    _hear(detector, _silence(0.0, 1.0))
    audio = detector.audio_from(0.81)
    assert abs(audio[0].timestamp - 0.5) < 1e-9  # the first frame ending after 0.51
    assert abs(audio[-1].timestamp - 0.98) < 1e-9  # and everything heard since


def test_only_the_most_recent_audio_is_kept() -> None:
    detector = OnsetDetector(min_onset_frames=2)
    _hear(detector, _silence(0.0, 2.0))
    audio = detector.audio_from(0.0)
    assert len(audio) == 32 and abs(audio[0].timestamp - 1.36) < 1e-9
