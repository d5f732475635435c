"""The streaming corpus (benchmarks/scenarios-streaming) and its offline benchmark's clock."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.asr_streaming import (
    CORPUS,
    VOICE_ORDER,
    CorpusLine,
    Streamed,
    corpus_lines,
    pipeline_frames,
    render_line,
    renderer,
    stream,
)
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.telephone import TELEPHONE_RATE
from voice_agent.bench.scenario import VOICES
from voice_agent.settings import AsrSettings, load_settings
from voice_agent.stages.asr import AsrHint, Transcript, Word
from voice_agent.stages.asr.live import PartialRunner, StreamingWhisper
from voice_agent.stages.asr.whisper import HeardWords


@pytest.fixture(scope="module")
def lines() -> list[CorpusLine]:
    return corpus_lines(CORPUS)


def test_the_corpus_is_bench_scenarios_of_at_least_40_caller_lines(
    lines: list[CorpusLine],
) -> None:
    assert len(lines) >= 40
    assert len({line.scenario.name for line in lines}) >= 5
    # Each call of the bench says every line of one scenario with one caller's values.
    assert all(line.scenario.callers for line in lines)


def test_at_least_10_lines_carry_a_planned_pause_of_0_4_to_0_7_s_inside(
    lines: list[CorpusLine],
) -> None:
    paused = [line for line in lines if line.pauses_s]
    assert len(paused) >= 10
    assert all(0.4 <= pause <= 0.7 for line in paused for pause in line.pauses_s)
    # Inside the line: speech before and after it.
    for line in paused:
        before, _, after = line.turn.say.partition("<pause")
        assert before.strip() and after.split(">", 1)[1].strip(" ."), line.name


def test_the_benchmark_takes_every_bench_voice() -> None:
    assert sorted(VOICE_ORDER) == sorted(VOICES)


@pytest.mark.slow
def test_every_line_is_3_to_8_s_in_every_voice_for_every_caller(
    lines: list[CorpusLine],
) -> None:
    render = renderer(load_settings())  # the bench's WAV cache: quick once rendered
    out_of_range = [
        (line.name, caller, voice, round(rendered.audio.duration, 2))
        for line in lines
        for caller in range(len(line.scenario.callers))
        for voice in VOICES
        if not 3.0
        <= (rendered := render_line(render, line, caller, voice, False)).audio.duration
        <= 8.0
    ]
    assert out_of_range == []


# The streamed pass in simulated real time


def frames_of(seconds: float) -> list[AudioFrame]:
    return AudioFrame.silence(seconds).chunks(0.02)


class ClockedRecognizer:
    """Hears nothing but the final pass's one word; each pass moves a fake clock on."""

    def __init__(self, partial_s: float | None = 0.3, final_s: float = 0.1) -> None:
        self.now = 0.0
        self._partial_s = partial_s
        self._final_s = final_s
        self.heard: list[tuple[float, float, bool]] = []
        """Each pass: its audio's offset and duration, and whether it was the final one."""

    def transcribe_words_blocking(
        self, audio: AudioFrame, hint: AsrHint, context: str = "", *, fallback: bool = True
    ) -> HeardWords:
        self.heard.append((audio.timestamp, round(audio.duration, 2), fallback))
        if not fallback:
            self.now += self._partial_s if self._partial_s is not None else 0.0
            return HeardWords((), "en", {})
        self.now += self._final_s
        return HeardWords((Word("yes", audio.timestamp, audio.end, 0.9),), "en", {})

    async def transcribe_words(
        self, audio: AudioFrame, hint: AsrHint, context: str = ""
    ) -> HeardWords:
        return self.transcribe_words_blocking(audio, hint, context)

    async def transcribe(self, audio: AudioFrame, hint: AsrHint | None = None) -> Transcript:
        raise AssertionError("the final pass heard its audio to the end")

    def streamed_transcript(
        self, text: str, heard: HeardWords, hint: AsrHint, confidence: float
    ) -> Transcript:
        return Transcript(text, "en", confidence, heard.timings, "streamed")

    async def number_checked(
        self, streamed: Transcript, audio: AudioFrame, hint: AsrHint
    ) -> Transcript | None:
        return None


def _streamed(recognizer: ClockedRecognizer, seconds: float) -> Streamed:
    def streaming(partials: PartialRunner) -> StreamingWhisper:
        return StreamingWhisper(recognizer, AsrSettings(), partials)

    return stream(frames_of(seconds), streaming, timer=lambda: recognizer.now)


def test_the_audio_clock_moves_on_by_each_pass_time() -> None:
    recognizer = ClockedRecognizer(partial_s=0.3, final_s=0.1)
    streamed = _streamed(recognizer, 2.1)
    # Due at 0.5 s of audio; a pass takes 0.3 s, during which 0.3 s more arrives; the next is
    # due when 0.5 s have come since the last pass's audio ended: at 1.0, 1.5 and 2.0 s. The
    # last frame is in at 2.1 s, while the fourth pass runs: the final pass waits for it.
    assert recognizer.heard == [
        (0.0, 0.5, False),
        (0.0, 1.0, False),
        (0.0, 1.5, False),
        (0.0, 2.0, False),
        (0.0, 2.1, True),
    ]
    assert streamed.partial_ms == pytest.approx((300.0,) * 4)
    assert streamed.wait_ms == pytest.approx(200.0)
    assert streamed.final_ms == pytest.approx(100.0)
    assert streamed.ready_ms == pytest.approx(300.0)
    assert streamed.final_audio_s == pytest.approx(2.1)
    assert streamed.text == "yes" and not streamed.whole_again


def test_no_partial_pass_starts_once_the_clip_has_ended() -> None:
    recognizer = ClockedRecognizer(partial_s=0.3)
    streamed = _streamed(recognizer, 2.0)
    # A pass would be due as the last frame comes in at 2.0 s: the final pass runs instead.
    assert [final for *_, final in recognizer.heard] == [False, False, False, True]
    assert streamed.wait_ms == 0.0


def test_a_slow_pass_lets_audio_pile_up_for_the_next() -> None:
    recognizer = ClockedRecognizer(partial_s=0.9, final_s=0.0)
    streamed = _streamed(recognizer, 2.0)
    # 0.5 s in: a pass of 0.9 s; at 1.4 s the next is due at once, with 0.9 s new.
    partials = [duration for _, duration, final in recognizer.heard if not final]
    assert partials == [0.5, 1.4]
    assert streamed.wait_ms == pytest.approx(300.0)  # 1.4 + 0.9 - 2.0


def test_telephone_audio_reaches_the_pipeline_at_16_khz_in_20_ms_frames() -> None:
    line = AudioFrame((np.sin(np.arange(8000) / 5) * 8000).astype(np.int16), TELEPHONE_RATE)
    frames = pipeline_frames(line)
    assert all(frame.rate == PIPELINE_RATE and len(frame.samples) == 320 for frame in frames)
    assert sum(frame.duration for frame in frames) == pytest.approx(1.0)
