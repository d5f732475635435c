import asyncio

import numpy as np

from voice_agent.agent.playout import Playout
from voice_agent.audio import AudioFrame
from voice_agent.clock import FakeClock


def _audio(seconds: float, value: int = 1000) -> AudioFrame:
    return AudioFrame(np.full(round(16000 * seconds), value, dtype=np.int16), 16000)


def test_reads_reply_audio_then_silence_and_reports_first_audio() -> None:
    clock = FakeClock(10.0)
    playout = Playout(clock)
    sent: list[float] = []
    playout.begin_reply(["Hello there."])
    playout.on_first_audio = sent.append
    playout.write(_audio(0.03), 0)
    playout.segment_complete(0)
    playout.finish_writing()
    first = playout.read(320)
    assert first.samples.tolist() == [1000] * 320 and sent == [10.0]
    second = playout.read(320)
    assert second.samples[:160].tolist() == [1000] * 160
    assert not second.samples[160:].any()
    assert not playout.pending
    assert playout.played_text() == "Hello there."


def test_pause_plays_silence_and_resume_continues_where_it_stopped() -> None:
    playout = Playout(FakeClock())
    playout.begin_reply(["one two"])
    playout.write(AudioFrame(np.arange(1, 961, dtype=np.int16), 16000), 0)
    first = playout.read(320)
    playout.pause()
    assert not playout.read(320).samples.any()
    playout.resume()
    assert playout.read(320).samples[0] == first.samples[-1] + 1


def test_clear_keeps_only_what_was_played() -> None:
    playout = Playout(FakeClock())
    playout.begin_reply(["Your parcel is in Frankfurt,", "it cleared customs on Tuesday."])
    playout.write(_audio(0.4), 0)
    playout.segment_complete(0)
    playout.write(_audio(1.0), 1)
    playout.segment_complete(1)
    for _ in range(20 + 25):  # all of the first chunk, half of the second
        playout.read(320)
    heard = playout.clear()
    assert heard == "Your parcel is in Frankfurt, it cleared"
    assert not playout.pending
    assert not playout.read(320).samples.any()


def test_drained_fires_when_everything_was_read() -> None:
    async def scenario() -> bool:
        playout = Playout(FakeClock())
        playout.begin_reply(["Hi."])
        playout.write(_audio(0.04), 0)
        playout.finish_writing()
        waiter = asyncio.create_task(playout.drained())
        await asyncio.sleep(0)
        assert not waiter.done()
        playout.read(320)
        playout.read(320)
        await asyncio.wait_for(waiter, 1)
        return waiter.done()

    assert asyncio.run(scenario())


def test_reference_history_covers_recent_blocks() -> None:
    clock = FakeClock()
    playout = Playout(clock, history_s=0.1)
    playout.begin_reply(["x"])
    playout.write(_audio(0.2), 0)
    for _ in range(10):
        playout.read(320)
        clock.advance(0.02)
    blocks = playout.reference(0.0)
    assert len(blocks) == 6  # the last 0.1 s and the block at its edge
    assert all(block.power == 1000.0**2 for block in blocks)
