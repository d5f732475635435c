"""webrtcvad on real speech in noise: boundaries within 60 ms, nothing heard in the noise."""

from __future__ import annotations

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
from voice_agent.audio.telephone import through_telephone
from voice_agent.bench.voices import ESPEAK_VOICES, piper_speaker, trim_silence
from voice_agent.models import ModelStore
from voice_agent.settings import VadSettings, load_settings
from voice_agent.stages.vad import VadEventKind
from voice_agent.stages.vad.webrtc import WebrtcClassifier, webrtc_vad

SETTINGS = VadSettings(engine="webrtc")


@pytest.mark.parametrize("rate", [16000, 8000])
@pytest.mark.parametrize("voice", ESPEAK_VOICES)
def test_boundaries_within_60_ms_in_white_and_pink_noise(voice: str, rate: int) -> None:
    problems = []
    for noise in ("white", "pink"):
        clip = noisy_clip(voice, rate, noise, timestamp=3.5)
        events = [heard.event for heard in listen(webrtc_vad(SETTINGS, rate), clip.audio)]
        problems += [f"{noise}: {problem}" for problem in boundary_errors(clip, events)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rate", [16000, 8000])
def test_digital_silence_between_sentences_changes_nothing(rate: int) -> None:
    problems = []
    for noise in ("white", "pink"):
        clip = noisy_clip("en-us", rate, noise)
        gated = with_digital_silence(clip, clip.speech[1][0] - 0.3, 3.0)
        events = [heard.event for heard in listen(webrtc_vad(SETTINGS, rate), gated.audio)]
        problems += [f"{noise}: {problem}" for problem in boundary_errors(gated, events)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rate", [16000, 8000])
@pytest.mark.parametrize("voice", ESPEAK_VOICES[:2])
def test_on_a_clean_line_the_end_is_where_the_sound_ends(voice: str, rate: int) -> None:
    # Between words a clean file or a gated stream is digital silence: no noise to learn, yet
    # the end must not wait out webrtcvad's own hangover.
    clip = noisy_clip(voice, rate, None)
    heard = listen(webrtc_vad(SETTINGS, rate), clip.audio)
    assert not boundary_errors(clip, [h.event for h in heard])
    ends = [h for h in heard if h.event.kind is VadEventKind.SPEECH_END]
    for end, (_, speech_end) in zip(ends, clip.speech, strict=True):
        assert end.emitted_at - speech_end < SETTINGS.hangover_ms / 1000 + 0.03


def test_hangover_and_start_time_delay_the_report_not_the_boundary() -> None:
    clip = noisy_clip("en-us", 16000, "white")
    quick = listen(webrtc_vad(SETTINGS, 16000), clip.audio)
    slow_settings = SETTINGS.model_copy(update={"start_ms": 200, "hangover_ms": 500})
    slow = listen(webrtc_vad(slow_settings, 16000), clip.audio)
    assert [h.event for h in slow] == [h.event for h in quick]
    for fast, late in zip(quick, slow, strict=True):
        start_extra = (slow_settings.start_ms - SETTINGS.start_ms) / 1000
        end_extra = (slow_settings.hangover_ms - SETTINGS.hangover_ms) / 1000
        extras = {VadEventKind.SPEECH_START: start_extra, VadEventKind.SPEECH_END: end_extra}
        # A tentative pause waits for its own quiet, which neither setting changes.
        extra = extras.get(fast.event.kind, 0.0)
        assert late.emitted_at - fast.emitted_at == pytest.approx(extra, abs=0.021)


def test_the_end_is_reported_a_hangover_after_the_speech_not_after_webrtc_own_hangover() -> None:
    clip = noisy_clip("en-gb+f3", 8000, "pink")
    heard = listen(webrtc_vad(SETTINGS, 8000), clip.audio)
    ends = [h for h in heard if h.event.kind is VadEventKind.SPEECH_END]
    for end, (_, speech_end) in zip(ends, clip.speech, strict=True):
        assert end.emitted_at - speech_end < SETTINGS.hangover_ms / 1000 + 0.08


def test_odd_chunk_sizes_give_the_same_events_as_20_ms_frames() -> None:
    clip = noisy_clip("en-us+m7", 16000, "pink", timestamp=7.0)
    reference = [h.event for h in listen(webrtc_vad(SETTINGS, 16000), clip.audio)]
    assert [event.kind for event in reference].count(VadEventKind.SPEECH_END) == 3
    vad = webrtc_vad(SETTINGS, 16000)
    events = []
    for frame in _odd_chunks(clip.audio, seed=5):
        event = vad.process(frame)
        if event is not None:
            events.append(event)
    assert events == reference


def test_a_whole_clip_in_one_frame_gives_one_event_per_call_in_order() -> None:
    clip = noisy_clip("en-gb-scotland+f2", 8000, "white")
    reference = [h.event for h in listen(webrtc_vad(SETTINGS, 8000), clip.audio)]
    vad = webrtc_vad(SETTINGS, 8000)
    first = vad.process(clip.audio)
    nothing = AudioFrame(np.zeros(0, dtype=np.int16), 8000, clip.audio.end)
    rest = [vad.process(nothing) for _ in range(len(reference))]
    assert [first, *rest[:-1]] == reference
    assert rest[-1] is None


def test_other_rates_are_resampled_and_keep_their_boundaries() -> None:
    clip = noisy_clip("en-us", 16000, "white", timestamp=1.0)
    at_44k = Clip(resample(clip.audio, 44100), clip.speech)
    events = [h.event for h in listen(webrtc_vad(SETTINGS, 44100), at_44k.audio)]
    assert not boundary_errors(at_44k, events)


def test_48_khz_runs_natively() -> None:
    assert WebrtcClassifier(3, 48000, 10).window_size == 480
    vad = webrtc_vad(SETTINGS, 48000)
    clip = noisy_clip("en-gb+f3", 16000, "pink")
    at_48k = Clip(resample(clip.audio, 48000), clip.speech)
    assert not boundary_errors(at_48k, [h.event for h in listen(vad, at_48k.audio)])


def test_reset_forgets_the_previous_stream() -> None:
    first = noisy_clip("en-us", 8000, "pink", seed=1)
    second = noisy_clip("en-gb+f3", 8000, "white", seed=2, timestamp=100.0)
    fresh = [h.event for h in listen(webrtc_vad(SETTINGS, 8000), second.audio)]
    vad = webrtc_vad(SETTINGS, 8000)
    middle_of_second_sentence = sum(first.speech[1]) / 2 - first.audio.timestamp
    half = first.audio.slice(0, middle_of_second_sentence)
    assert [h.event.kind for h in listen(vad, half)][-1] is VadEventKind.SPEECH_START
    vad.reset()
    assert [h.event for h in listen(vad, second.audio)] == fresh


def test_reset_drops_events_still_queued() -> None:
    clip = noisy_clip("en-us", 16000, "white")
    vad = webrtc_vad(SETTINGS, 16000)
    assert vad.process(clip.audio) is not None
    vad.reset()
    assert vad.process(AudioFrame(np.zeros(0, dtype=np.int16), 16000)) is None


def test_the_classifier_rejects_rates_and_windows_webrtcvad_lacks() -> None:
    with pytest.raises(ValueError, match="runs at"):
        WebrtcClassifier(3, 22050, 10)
    with pytest.raises(ValueError, match="windows"):
        WebrtcClassifier(3, 16000, 25)


def _odd_chunks(audio: AudioFrame, seed: int) -> list[AudioFrame]:
    rng = np.random.default_rng(seed)
    frames, position = [], 0
    while position < len(audio.samples):
        size = int(rng.integers(1, 700))
        frames.append(
            AudioFrame(
                audio.samples[position : position + size],
                audio.rate,
                audio.timestamp + position / audio.rate,
            )
        )
        position += size
    return frames


def test_a_phone_line_of_unbroken_speech_is_heard_to_its_end() -> None:
    # Piper leaves no silence between words, and by phone webrtcvad calls many of its
    # consonants non-speech: each such slice widened the noise's learnt spread by a tenth, until
    # ~1.3 s into the line no sound stood out of it and the VAD heard no more speech.
    settings = load_settings()
    speak = piper_speaker(ModelStore(settings.models, settings.paths))
    text = "Hi there, I ordered something from your shop two weeks ago and I want to know where."
    line = through_telephone(trim_silence(resample(speak(text, 1.0), 16000)))
    quiet = np.zeros(16000, dtype=np.int16)
    audio = AudioFrame(np.concatenate([quiet, line.samples, quiet]), 16000)
    heard = listen(webrtc_vad(SETTINGS, 16000), audio)
    ends = [h.event.timestamp for h in heard if h.event.kind is VadEventKind.SPEECH_END]
    assert ends and ends[-1] > 1.0 + line.duration - 0.3, ends
