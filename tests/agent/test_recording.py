"""CallRecording: both sides aligned on the call's clock, what was played only, and nothing
kept once the caller objects; and the taps that feed it."""

from __future__ import annotations

import asyncio
import io
import stat
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from voice_agent.agent.events import CallEvent
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallInput, DtmfInput, HoldChanged
from voice_agent.agent.recorder import StoreRecorder
from voice_agent.agent.recording import (
    AGENT,
    CALLER,
    CallRecording,
    RecordedTransport,
    save_recording,
)
from voice_agent.audio import AudioFrame
from voice_agent.clock import FakeClock
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import open_database
from voice_agent.store.repository import Repository
from voice_agent.store.writes import RecordingRefused

RATE = 16_000
FRAME = 320  # 20 ms


def _frame(value: int, at: float, samples: int = FRAME, rate: int = RATE) -> AudioFrame:
    return AudioFrame(np.full(samples, value, dtype=np.int16), rate, at)


def test_both_sides_land_where_their_clock_times_say() -> None:
    recording = CallRecording(started=100.0, max_s=60)
    recording.hear(_frame(11, 100.0))
    recording.hear(_frame(12, 100.5))  # a gap (a lost packet) stays a gap
    recording.play(_frame(21, 100.02))
    recording.play(_frame(0, 100.04))  # the line's silence is not kept, but is silence
    rendered = recording.render()
    assert rendered.shape == (round(0.52 * RATE), 2)
    caller, agent = rendered[:, CALLER], rendered[:, AGENT]
    assert (caller[:FRAME] == 11).all() and not caller[FRAME:8000].any()
    assert (caller[8000 : 8000 + FRAME] == 12).all()
    assert not agent[:FRAME].any() and (agent[FRAME : 2 * FRAME] == 21).all()
    assert not agent[2 * FRAME :].any()


def test_audio_at_another_rate_is_resampled_to_the_recordings() -> None:
    recording = CallRecording(started=0.0, max_s=60)
    recording.hear(_frame(1000, 0.0, samples=160, rate=8000))
    assert recording.render().shape == (FRAME, 2)


def test_a_reply_cut_short_stops_in_the_recording_where_it_stopped() -> None:
    clock = FakeClock(50.0)
    playout = Playout(clock)
    recording = CallRecording(started=clock.now(), max_s=60)
    playout.on_line_audio = recording.play
    playout.begin_reply(["Your parcel is in Frankfurt, it cleared customs on Tuesday."])
    playout.write(_frame(500, 0.0, samples=RATE), 0)  # one second of reply
    for _ in range(10):  # 200 ms played, then the caller barges in
        playout.read(FRAME)
        clock.advance(0.02)
    playout.clear()
    for _ in range(10):
        playout.read(FRAME)
        clock.advance(0.02)
    agent = recording.render()[:, AGENT]
    assert (agent[: 10 * FRAME] == 500).all()
    assert not agent[10 * FRAME :].any()
    assert recording.duration == pytest.approx(0.2)


def test_an_objection_discards_everything_and_keeps_nothing_after() -> None:
    recording = CallRecording(started=0.0, max_s=60)
    recording.hear(_frame(7, 0.0))
    recording.play(_frame(9, 0.0))
    recording.refuse()
    recording.hear(_frame(7, 0.02))
    recording.play(_frame(9, 0.02))
    assert recording.refused and recording.empty
    with pytest.raises(ValueError, match="objected"):
        recording.render()


def test_nothing_past_the_limit_or_after_the_end_is_kept() -> None:
    recording = CallRecording(started=0.0, max_s=1.0)
    recording.hear(_frame(1, 0.99))
    recording.hear(_frame(1, 1.5))
    assert recording.duration == pytest.approx(1.0)  # 10 ms of the first frame, none of the next
    assert int(np.count_nonzero(recording.render()[:, CALLER])) == 160
    recording.close()
    recording.hear(_frame(1, 0.0))
    assert recording.render()[:FRAME, CALLER].sum() == 0


def test_the_file_is_a_stereo_pcm_wav_readable_by_its_owner_only(tmp_path: Path) -> None:
    recording = CallRecording(started=0.0, max_s=60)
    recording.hear(_frame(3, 0.0, samples=RATE))
    recording.play(_frame(-4, 0.5, samples=RATE))
    first = save_recording(recording, tmp_path / "recordings")
    second = save_recording(recording, tmp_path / "recordings")
    assert first != second and len(first) >= 32 and first.endswith(".wav")
    path = tmp_path / "recordings" / first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with wave.open(io.BytesIO(path.read_bytes()), "rb") as handle:
        assert (handle.getnchannels(), handle.getsampwidth(), handle.getframerate()) == (2, 2, RATE)
        assert handle.getnframes() == round(1.5 * RATE)
        samples = np.frombuffer(handle.readframes(handle.getnframes()), "<i2").reshape(-1, 2)
    assert samples[0].tolist() == [3, 0] and samples[-1].tolist() == [0, -4]
    assert samples[RATE // 2].tolist() == [3, -4]


class _Transport:
    def __init__(self, items: list[CallInput]) -> None:
        self.items = items
        self.cleared = 0
        self.events: list[CallEvent] = []

    async def inputs(self) -> AsyncIterator[CallInput]:
        for item in self.items:
            yield item

    def clear(self) -> None:
        self.cleared += 1

    async def hang_up(self) -> None:
        pass

    def publish(self, event: CallEvent) -> None:
        self.events.append(event)


def test_the_transport_tap_records_the_callers_audio_and_passes_everything_on() -> None:
    items: list[CallInput] = [_frame(5, 0.0), DtmfInput("4", 0.01), _frame(6, 0.02)]
    items.insert(2, HoldChanged(held=True))  # passed on, not recorded
    inner = _Transport(items)
    recording = CallRecording(started=0.0, max_s=60)
    tapped = RecordedTransport(inner, recording)

    async def read() -> list[CallInput]:
        return [item async for item in tapped.inputs()]

    assert asyncio.run(read()) == items
    tapped.clear()
    assert inner.cleared == 1
    caller = recording.render()[:, CALLER]
    assert (caller[:FRAME] == 5).all() and (caller[FRAME:] == 6).all()


def test_the_recorder_discards_the_recording_when_an_objection_is_committed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    with open_database(StoreSettings(url=url), PathsSettings()) as database:
        repository = Repository(database)
        conversation = repository.start_conversation("sip", "+44 20 7946 0321", datetime.now(UTC))
        recorder = StoreRecorder(repository, conversation)
        recording = CallRecording(started=0.0, max_s=60)
        recorder.on_recording_refused = recording.refuse
        recording.hear(_frame(5, 0.0))
        recorder.apply([])
        assert not recording.refused
        recorder.apply([RecordingRefused(conversation_id=conversation)])
        assert recording.refused and recording.empty
        (view,) = repository.conversations()
        assert view.recording_consent is False and view.recording_path is None
