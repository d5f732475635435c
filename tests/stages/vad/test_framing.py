"""WindowFramer: any frames in, fixed windows out, each stamped with its time in the audio."""

from __future__ import annotations

import numpy as np
import pytest

from voice_agent.audio import AudioFrame
from voice_agent.bench.voices import EspeakVoice
from voice_agent.stages.vad.framing import Window, WindowFramer


def _speech(rate: int, timestamp: float = 0.0) -> AudioFrame:
    spoken = EspeakVoice("en-gb+f3").speak("Where is my parcel?", rate)
    return AudioFrame(spoken.samples, rate, timestamp)


def _odd_pieces(audio: AudioFrame, sizes: list[int]) -> list[AudioFrame]:
    pieces, position, index = [], 0, 0
    while position < len(audio.samples):
        size = sizes[index % len(sizes)]
        pieces.append(
            AudioFrame(
                audio.samples[position : position + size],
                audio.rate,
                audio.timestamp + position / audio.rate,
            )
        )
        position += size
        index += 1
    return pieces


def _push_all(framer: WindowFramer, frames: list[AudioFrame]) -> list[Window]:
    return [window for frame in frames for window in framer.push(frame)]


def test_odd_chunks_give_the_windows_of_one_big_frame() -> None:
    audio = _speech(16000, timestamp=4.0)
    whole = WindowFramer(16000, 512).push(audio)
    pieces = _push_all(WindowFramer(16000, 512), _odd_pieces(audio, [1, 37, 160, 511, 513, 999]))
    assert len(pieces) == len(whole) == len(audio.samples) // 512
    for got, want in zip(pieces, whole, strict=True):
        assert np.array_equal(got.samples, want.samples)
        assert got.start == want.start
        assert got.end == pytest.approx(got.start + 0.032)
    assert [w.start for w in whole] == pytest.approx([4.0 + k * 0.032 for k in range(len(whole))])


def test_resampled_windows_keep_the_speech_where_it_was() -> None:
    audio = _speech(8000, timestamp=1.5)
    padded = AudioFrame(
        np.concatenate([np.zeros(4000, dtype=np.int16), audio.samples, np.zeros(4000, np.int16)]),
        8000,
        1.0,
    )
    windows = _push_all(WindowFramer(16000, 160), padded.chunks(0.02))
    onset = next(w.start for w in windows if np.abs(w.samples.astype(np.int32)).max() > 300)
    first_loud = np.nonzero(np.abs(padded.samples.astype(np.int32)) > 300)[0][0] / 8000
    assert abs(onset - (1.0 + first_loud)) <= 0.01


def test_a_jump_in_frame_times_moves_the_windows_with_it() -> None:
    audio = _speech(8000)
    first, second = audio.slice(0, 0.4), audio.slice(0.4, 0.8)
    framer = WindowFramer(8000, 80)
    before = framer.push(AudioFrame(first.samples, 8000, 10.0))
    after = framer.push(AudioFrame(second.samples, 8000, 12.4))
    assert before[-1].end == pytest.approx(10.4)
    assert after[0].start == pytest.approx(12.4)
    assert after[-1].end == pytest.approx(12.8)


def test_a_rate_change_loses_no_audio() -> None:
    framer = WindowFramer(16000, 160)
    first = _speech(16000, timestamp=0.0)
    middle = _speech(8000, timestamp=first.end)
    last = _speech(16000, timestamp=middle.end)
    windows = framer.push(first) + framer.push(middle) + framer.push(last)
    heard = len(windows) * 160 / 16000
    # All but the last window's worth is out: the 8 kHz resampler gave back its delayed tail.
    assert last.end - 0.01 < windows[-1].end <= last.end
    assert windows[-1].end == pytest.approx(windows[0].start + heard)


def test_reset_starts_a_new_stream() -> None:
    framer = WindowFramer(8000, 256)
    framer.push(AudioFrame(_speech(8000).samples[:300], 8000, 5.0))
    framer.reset()
    windows = framer.push(AudioFrame(_speech(8000).samples[:600], 8000, 20.0))
    assert [w.start for w in windows] == [20.0, 20.032]
