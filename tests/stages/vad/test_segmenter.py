"""SpeechSegmenter with scripted engine scores over real speech in noise: where boundaries land."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.stages.vad.clips import Clip, noisy_clip, pause_errors
from voice_agent.stages.vad import VadEvent, VadEventKind
from voice_agent.stages.vad.framing import Window, WindowFramer
from voice_agent.stages.vad.segmenter import SegmenterSettings, SpeechSegmenter

Score = Callable[[Window], float]


@pytest.fixture(scope="module")
def clip() -> Clip:
    return noisy_clip("en-us", 16000, "white", timestamp=2.0)


def _windows(clip: Clip) -> list[Window]:
    return WindowFramer(16000, 160).push(clip.audio)


def _segment(clip: Clip, settings: SegmenterSettings, score: Score) -> list[VadEvent]:
    segmenter = SpeechSegmenter(settings)
    events = [segmenter.push(score(window), window) for window in _windows(clip)]
    return [event for event in events if event is not None]


def _lagging(clip: Clip, lag_s: float, value: float = 1.0, late_s: float = 0.0) -> Score:
    """An engine that hears the speech `late_s` after it starts and goes on hearing it `lag_s`
    after it stops."""

    def score(window: Window) -> float:
        middle = (window.start + window.end) / 2
        inside = any(start + late_s <= middle <= end + lag_s for start, end in clip.speech)
        return value if inside else 0.0

    return score


def _settings(lookback_s: float = 0.15, hangover_s: float = 0.2) -> SegmenterSettings:
    return SegmenterSettings(
        start_threshold=0.5,
        end_threshold=0.35,
        start_s=0.1,
        hangover_s=hangover_s,
        end_lookback_s=lookback_s,
    )


def test_the_end_moves_back_to_where_the_sound_stopped(clip: Clip) -> None:
    events = _segment(clip, _settings(lookback_s=0.15), _lagging(clip, 0.12))
    ends = [e.timestamp for e in events if e.kind is VadEventKind.SPEECH_END]
    assert ends == pytest.approx([end for _, end in clip.speech], abs=0.011)


def test_the_end_moves_back_no_further_than_the_lookback(clip: Clip) -> None:
    events = _segment(clip, _settings(lookback_s=0.05), _lagging(clip, 0.12))
    ends = [e.timestamp for e in events if e.kind is VadEventKind.SPEECH_END]
    assert ends == pytest.approx([end + 0.07 for _, end in clip.speech], abs=0.011)


def test_hangover_counts_from_the_sound_end(clip: Clip) -> None:
    segmenter = SpeechSegmenter(_settings(lookback_s=0.15, hangover_s=0.2))
    score = _lagging(clip, 0.12)
    reported_at = [
        window.end
        for window in _windows(clip)
        if (event := segmenter.push(score(window), window)) is not None
        and event.kind is VadEventKind.SPEECH_END
    ]
    assert reported_at == pytest.approx([end + 0.2 for _, end in clip.speech], abs=0.011)


def test_the_start_moves_back_over_a_soft_onset_the_engine_missed(clip: Clip) -> None:
    events = _segment(clip, _settings(), _lagging(clip, 0.0, late_s=0.06))
    starts = [e.timestamp for e in events if e.kind is VadEventKind.SPEECH_START]
    assert starts == pytest.approx([start for start, _ in clip.speech], abs=0.011)


def test_a_score_between_the_thresholds_keeps_speech_but_does_not_start_it(clip: Clip) -> None:
    assert _segment(clip, _settings(), _lagging(clip, 0.0, value=0.4)) == []
    hears_speech = _lagging(clip, 0.0)

    def wavering(window: Window) -> float:
        every_third = int(window.start * 100) % 3 == 0
        return 0.4 if hears_speech(window) and every_third else hears_speech(window)

    assert len(_segment(clip, _settings(), wavering)) == 2 * len(clip.speech)


def test_an_engine_run_over_noise_alone_is_not_speech(clip: Clip) -> None:
    first_start = clip.speech[0][0]

    def noise_then_speech(window: Window) -> float:
        in_noise = first_start - 0.5 <= window.start < first_start - 0.3
        return 1.0 if in_noise else _lagging(clip, 0.0)(window)

    events = _segment(clip, _settings(), noise_then_speech)
    assert [e.kind for e in events][:2] == [VadEventKind.SPEECH_START, VadEventKind.SPEECH_END]
    assert events[0].timestamp == pytest.approx(first_start, abs=0.011)


def test_a_noise_burst_the_engine_flags_in_a_pause_does_not_hold_it_open(clip: Clip) -> None:
    first_end = clip.speech[0][1]
    hears_speech = _lagging(clip, 0.0)

    def burst_in_pause(window: Window) -> float:
        return 1.0 if first_end + 0.14 <= window.start < first_end + 0.19 else hears_speech(window)

    events = _segment(clip, _settings(), burst_in_pause)
    assert events[1].kind is VadEventKind.SPEECH_END
    assert events[1].timestamp == pytest.approx(first_end, abs=0.011)


def test_speech_shorter_than_start_time_is_not_reported(clip: Clip) -> None:
    long_start = SegmenterSettings(0.5, 0.35, start_s=5.0, hangover_s=0.2)
    assert _segment(clip, long_start, _lagging(clip, 0.0)) == []


def test_thresholds_must_not_cross() -> None:
    with pytest.raises(ValueError, match="above start threshold"):
        SegmenterSettings(start_threshold=0.4, end_threshold=0.6, start_s=0.1, hangover_s=0.2)


# Tentative pauses: reported from the loudness, before the engine and the hangover agree


def _pausing(pause_s: float = 0.06, hangover_s: float = 0.2) -> SegmenterSettings:
    return SegmenterSettings(
        start_threshold=0.5,
        end_threshold=0.35,
        start_s=0.1,
        hangover_s=hangover_s,
        end_lookback_s=0.15,
        pause_s=pause_s,
    )


def _reported(
    clip: Clip, settings: SegmenterSettings, score: Score
) -> list[tuple[VadEvent, float]]:
    """Each event with the end of the window that reported it."""
    segmenter = SpeechSegmenter(settings)
    reported = []
    for window in _windows(clip):
        if (event := segmenter.push(score(window), window)) is not None:
            reported.append((event, window.end))
    return reported


def test_a_pause_is_reported_at_the_boundary_long_before_the_speech_end(clip: Clip) -> None:
    reported = _reported(clip, _pausing(), _lagging(clip, 0.12))
    ends = [(e, at) for e, at in reported if e.kind is VadEventKind.SPEECH_END]
    assert len(ends) == len(clip.speech)
    for end, end_reported in ends:
        pauses = [
            (e, at) for e, at in reported if e.kind is VadEventKind.PAUSE and at < end_reported
        ]
        pause, pause_reported = pauses[-1]
        assert pause.timestamp == pytest.approx(end.timestamp)
        # The quiet it waits for, not the engine's lag and the hangover on top.
        assert pause_reported - pause.timestamp == pytest.approx(0.06, abs=0.011)
        assert end_reported - pause_reported > 0.1


def test_sound_coming_back_after_a_pause_resumes_the_speech(clip: Clip) -> None:
    # A hangover longer than the gaps (and the trailing noise): one stretch of speech.
    reported = _reported(clip, _pausing(hangover_s=1.2), _lagging(clip, 0.12))
    kinds = [e.kind for e, _ in reported]
    assert kinds[0] is VadEventKind.SPEECH_START and VadEventKind.SPEECH_END not in kinds
    assert pause_errors([event for event, _ in reported]) == []
    resumes = [e.timestamp for e, _ in reported if e.kind is VadEventKind.RESUME]
    for start, _ in clip.speech[1:]:
        assert any(abs(resume - start) < 0.05 for resume in resumes)


def test_no_pause_is_reported_without_a_pause_setting(clip: Clip) -> None:
    kinds = {e.kind for e, _ in _reported(clip, _settings(), _lagging(clip, 0.12))}
    assert kinds == {VadEventKind.SPEECH_START, VadEventKind.SPEECH_END}
