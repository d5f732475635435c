from pathlib import Path

import numpy as np
import pytest

from voice_agent.audio import AudioFrame
from voice_agent.audio.levels import gain, peak_dbfs, rms_dbfs
from voice_agent.audio.resample import StreamResampler, resample
from voice_agent.audio.wav import WavError, read_wav, write_wav


def _sine(freq: float, rate: int, seconds: float) -> AudioFrame:
    t = np.arange(round(rate * seconds)) / rate
    return AudioFrame.from_float(0.5 * np.sin(2 * np.pi * freq * t), rate)


def test_frame_rejects_wrong_dtype_and_rate() -> None:
    with pytest.raises(ValueError, match="int16"):
        AudioFrame(np.zeros(10, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="rate"):
        AudioFrame(np.zeros(10, dtype=np.int16), 0)


def test_chunks_slice_and_concat_keep_timestamps() -> None:
    frame = AudioFrame(np.arange(1600, dtype=np.int16), 16000, timestamp=2.0)
    chunks = frame.chunks(0.02)
    assert [len(c.samples) for c in chunks] == [320] * 5
    assert chunks[3].timestamp == pytest.approx(2.06)
    assert AudioFrame.concat(chunks).samples.tolist() == frame.samples.tolist()
    assert frame.slice(0.05).timestamp == pytest.approx(2.05)
    with pytest.raises(ValueError, match="different rates"):
        AudioFrame.concat([frame, AudioFrame.silence(0.1, 8000)])


def test_resample_keeps_duration_and_pitch() -> None:
    tone = _sine(440, 8000, 1.0)
    up = resample(tone, 16000)
    assert up.rate == 16000 and abs(len(up.samples) - 16000) <= 2
    spectrum = np.abs(np.fft.rfft(up.samples.astype(np.float64)))
    assert abs(np.argmax(spectrum) * 16000 / len(up.samples) - 440) < 3


def test_stream_resampler_matches_one_shot_length() -> None:
    tone = _sine(300, 48000, 1.0)
    stream = StreamResampler(48000, 16000)
    chunks = tone.chunks(0.02)
    out = [stream.process(c, last=i == len(chunks) - 1) for i, c in enumerate(chunks)]
    total = sum(len(f.samples) for f in out)
    assert abs(total - 16000) <= 2
    with pytest.raises(ValueError, match="expects 48000"):
        stream.process(AudioFrame.silence(0.02, 16000))


def test_levels_and_gain() -> None:
    tone = _sine(1000, 16000, 0.5)
    assert peak_dbfs(tone.samples) == pytest.approx(-6.02, abs=0.1)
    assert rms_dbfs(tone.samples) == pytest.approx(-9.03, abs=0.1)
    assert rms_dbfs(gain(tone, -12).samples) == pytest.approx(-21.03, abs=0.1)
    assert rms_dbfs(np.zeros(10, dtype=np.int16)) == -120.0


def test_wav_round_trip_and_clear_errors(tmp_path: Path) -> None:
    tone = _sine(200, 22050, 0.3)
    write_wav(tmp_path / "t.wav", tone)
    back = read_wav(tmp_path / "t.wav")
    assert back.rate == 22050 and back.samples.tolist() == tone.samples.tolist()
    (tmp_path / "junk.wav").write_bytes(b"RIFF not really")
    with pytest.raises(WavError, match="not a readable PCM WAV"):
        read_wav(tmp_path / "junk.wav")
    with pytest.raises(WavError, match="no such file"):
        read_wav(tmp_path / "missing.wav")
