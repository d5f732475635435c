"""Silero VAD (ONNX) on real speech in noise: boundaries within 60 ms, one shared session."""

from __future__ import annotations

from itertools import zip_longest

import numpy as np
import pytest

from tests.stages.vad.clips import (
    Clip,
    boundary_errors,
    listen,
    noisy_clip,
    with_digital_silence,
)
from voice_agent.audio import AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.bench.voices import ESPEAK_VOICES
from voice_agent.models import ModelStore
from voice_agent.settings import ModelsSettings, PathsSettings, VadSettings
from voice_agent.stages.vad import VadEvent, VadEventKind
from voice_agent.stages.vad.silero import (
    MODEL_FILE,
    MODEL_ID,
    SileroClassifier,
    shared_session,
    silero_vad,
)

SETTINGS = VadSettings(engine="silero")


@pytest.fixture(scope="module")
def models() -> ModelStore:
    return ModelStore(ModelsSettings(), PathsSettings())


@pytest.mark.parametrize("rate", [16000, 8000])
@pytest.mark.parametrize("voice", ESPEAK_VOICES)
def test_boundaries_within_60_ms_in_white_and_pink_noise(
    models: ModelStore, voice: str, rate: int
) -> None:
    problems = []
    for noise in ("white", "pink"):
        clip = noisy_clip(voice, rate, noise, timestamp=3.5)
        events = [heard.event for heard in listen(silero_vad(SETTINGS, models, rate), clip.audio)]
        problems += [f"{noise}: {problem}" for problem in boundary_errors(clip, events)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rate", [16000, 8000])
def test_digital_silence_between_sentences_changes_nothing(models: ModelStore, rate: int) -> None:
    problems = []
    for noise in ("white", "pink"):
        clip = noisy_clip("en-us", rate, noise)
        gated = with_digital_silence(clip, clip.speech[1][0] - 0.3, 3.0)
        events = [heard.event for heard in listen(silero_vad(SETTINGS, models, rate), gated.audio)]
        problems += [f"{noise}: {problem}" for problem in boundary_errors(gated, events)]
    assert not problems, "\n".join(problems)


def test_hangover_and_start_time_delay_the_report_not_the_boundary(models: ModelStore) -> None:
    clip = noisy_clip("en-gb+f3", 16000, "pink")
    quick = listen(silero_vad(SETTINGS, models, 16000), clip.audio)
    slow_settings = SETTINGS.model_copy(update={"start_ms": 200, "hangover_ms": 500})
    slow = listen(silero_vad(slow_settings, models, 16000), clip.audio)
    assert [h.event for h in slow] == [h.event for h in quick]
    for fast, late in zip(quick, slow, strict=True):
        start_extra = (slow_settings.start_ms - SETTINGS.start_ms) / 1000
        end_extra = (slow_settings.hangover_ms - SETTINGS.hangover_ms) / 1000
        extras = {VadEventKind.SPEECH_START: start_extra, VadEventKind.SPEECH_END: end_extra}
        # A tentative pause waits for its own quiet, which neither setting changes.
        extra = extras.get(fast.event.kind, 0.0)
        # Reports come at the end of the 20 ms frame that completes a 32 ms window.
        assert late.emitted_at - fast.emitted_at == pytest.approx(extra, abs=0.041)


def test_odd_chunk_sizes_give_the_same_events_as_20_ms_frames(models: ModelStore) -> None:
    clip = noisy_clip("en-us", 8000, "white", timestamp=2.25)
    reference = [h.event for h in listen(silero_vad(SETTINGS, models, 8000), clip.audio)]
    assert [event.kind for event in reference].count(VadEventKind.SPEECH_END) == 3
    rng = np.random.default_rng(11)
    vad = silero_vad(SETTINGS, models, 8000)
    events, position = [], 0
    while position < len(clip.audio.samples):
        size = int(rng.integers(1, 900))
        start = clip.audio.timestamp + position / 8000
        event = vad.process(AudioFrame(clip.audio.samples[position : position + size], 8000, start))
        if event is not None:
            events.append(event)
        position += size
    assert events == reference


def test_instances_share_the_session_but_not_the_state(models: ModelStore) -> None:
    one = noisy_clip("en-us+m7", 16000, "pink")
    other = noisy_clip("en-gb-scotland+f2", 16000, "white", seed=3, timestamp=50.0)
    alone = [
        [h.event for h in listen(silero_vad(SETTINGS, models, 16000), clip.audio)]
        for clip in (one, other)
    ]
    first, second = silero_vad(SETTINGS, models, 16000), silero_vad(SETTINGS, models, 16000)
    path = models.file(MODEL_ID, MODEL_FILE)
    assert shared_session(path) is shared_session(path)
    together: tuple[list[VadEvent], list[VadEvent]] = ([], [])
    chunks = zip_longest(one.audio.chunks(0.02), other.audio.chunks(0.02))
    for frames in chunks:
        for vad, frame, events in zip((first, second), frames, together, strict=True):
            event = None if frame is None else vad.process(frame)
            if event is not None:
                events.append(event)
    assert list(together) == alone


def test_other_rates_are_resampled_and_keep_their_boundaries(models: ModelStore) -> None:
    clip = noisy_clip("en-gb+f3", 16000, "white", timestamp=1.0)
    at_44k = Clip(resample(clip.audio, 44100), clip.speech)
    events = [h.event for h in listen(silero_vad(SETTINGS, models, 44100), at_44k.audio)]
    assert not boundary_errors(at_44k, events)


def test_reset_forgets_the_previous_stream(models: ModelStore) -> None:
    first = noisy_clip("en-us", 16000, "pink", seed=1)
    second = noisy_clip("en-gb+f3", 16000, "white", seed=2, timestamp=100.0)
    fresh = [h.event for h in listen(silero_vad(SETTINGS, models, 16000), second.audio)]
    vad = silero_vad(SETTINGS, models, 16000)
    middle_of_second_sentence = sum(first.speech[1]) / 2 - first.audio.timestamp
    heard = listen(vad, first.audio.slice(0, middle_of_second_sentence))
    assert heard[-1].event.kind is VadEventKind.SPEECH_START
    vad.reset()
    assert [h.event for h in listen(vad, second.audio)] == fresh


def test_a_whole_clip_in_one_frame_gives_one_event_per_call_in_order(models: ModelStore) -> None:
    clip = noisy_clip("en-us", 8000, "pink")
    reference = [h.event for h in listen(silero_vad(SETTINGS, models, 8000), clip.audio)]
    vad = silero_vad(SETTINGS, models, 8000)
    nothing = AudioFrame(np.zeros(0, dtype=np.int16), 8000, clip.audio.end)
    events = [vad.process(clip.audio), *(vad.process(nothing) for _ in range(len(reference)))]
    assert events == [*reference, None]


def test_the_classifier_scores_speech_high_and_noise_low(models: ModelStore) -> None:
    clip = noisy_clip("en-us", 16000, "white")
    classifier = SileroClassifier(shared_session(models.file(MODEL_ID, MODEL_FILE)), 16000)
    scores = [
        classifier.speech_probability(clip.audio.samples[start : start + 512])
        for start in range(0, len(clip.audio.samples) - 511, 512)
    ]
    times = clip.audio.timestamp + np.arange(len(scores)) * 0.032
    sentence_start, sentence_end = clip.speech[1]
    pairs = list(zip(scores, times, strict=True))
    inside = [s for s, t in pairs if sentence_start + 0.1 < t < sentence_end - 0.1]
    noise_only = [s for s, t in pairs if t + 0.032 < clip.speech[0][0] - 0.2]
    assert np.median(inside) > 0.9
    assert max(noise_only) < 0.2
    with pytest.raises(ValueError, match="512"):
        classifier.speech_probability(clip.audio.samples[:500])
    with pytest.raises(ValueError, match="runs at"):
        SileroClassifier(shared_session(models.file(MODEL_ID, MODEL_FILE)), 22050)
