"""The measurement arithmetic on recorded timelines: hand-built, with known answers."""

from __future__ import annotations

import numpy as np

from voice_agent.audio import AudioFrame
from voice_agent.bench.measures import (
    PlayedTurn,
    Sound,
    measure_call,
    paused_at,
    sounds,
    speech_bounds,
    stopped_at,
)
from voice_agent.bench.results import TurnKind
from voice_agent.bench.timeline import (
    CallRecording,
    HeardPacket,
    Microphone,
    browser_playout,
)

RATE = 8000
FRAME = 160


def _loud(seconds: float) -> np.ndarray:
    count = round(seconds * RATE)
    return np.where(np.arange(count) % 2, 8000, -8000).astype(np.int16)  # loud at every sample


def _quiet(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def _send(recording: CallRecording, start: float, audio: np.ndarray, utterance: int) -> float:
    """Play one utterance through a Microphone on a fake clock; returns when it ends."""
    microphone = Microphone(RATE, recording, now=lambda: 0.0)
    microphone.say(AudioFrame(audio, RATE), utterance)
    at = start
    while microphone.speaking:
        microphone.take_frame(at)
        at += 0.02
    return at


def _hear(recording: CallRecording, start: float, audio: np.ndarray, media_s: float) -> None:
    """The agent's audio arriving in 20 ms packets from `start`, one every 20 ms."""
    for index in range(0, len(audio), FRAME):
        recording.heard.append(
            HeardPacket(
                start + index / RATE, media_s + index / RATE, audio[index : index + FRAME], RATE
            )
        )


def test_sounds_join_close_samples_and_keep_gaps() -> None:
    recording = CallRecording()
    _hear(recording, 10.0, np.concatenate([_loud(0.2), _quiet(0.02), _loud(0.2)]), 0.0)
    _hear(recording, 11.0, _loud(0.1), 1.0)
    found = sounds(recording.heard)
    assert len(found) == 2
    assert abs(found[0].start - 10.0) < 0.001 and abs(found[0].end - 10.42) < 0.002
    assert abs(found[1].start - 11.0) < 0.001


def test_speech_bounds_are_the_first_and_last_loud_samples_as_sent() -> None:
    recording = CallRecording()
    audio = np.concatenate([_quiet(0.105), _loud(1.0), _quiet(0.3)])
    _send(recording, 5.0, audio, utterance=3)
    bounds = speech_bounds(recording, 3)
    assert bounds is not None
    assert abs(bounds.start - 5.105) < 0.001
    assert abs(bounds.end - 6.105) < 0.001
    assert speech_bounds(recording, 4) is None


def test_voice_to_voice_is_speech_end_to_first_sound_heard() -> None:
    recording = CallRecording()
    end = _send(recording, 0.0, _loud(2.0), utterance=0)
    assert end >= 2.0
    _hear(recording, 2.0 + 0.347, _loud(1.0), 0.0)
    figures = measure_call(recording, [PlayedTurn(0, TurnKind.REPLY)], sounds(recording.heard))
    assert len(figures) == 1
    assert figures[0].voice_to_voice_ms == 347.0
    assert figures[0].no_reply is False and figures[0].overlapped is False


def test_agent_audio_at_the_callers_last_word_is_an_overlap_not_a_figure() -> None:
    recording = CallRecording()
    _send(recording, 0.0, _loud(2.0), utterance=0)
    _hear(recording, 1.5, _loud(1.0), 0.0)
    figure = measure_call(recording, [PlayedTurn(0, TurnKind.REPLY)], sounds(recording.heard))[0]
    assert figure.overlapped is True
    assert figure.voice_to_voice_ms is None


def test_no_agent_audio_is_no_reply() -> None:
    recording = CallRecording()
    _send(recording, 0.0, _loud(1.0), utterance=0)
    figure = measure_call(recording, [PlayedTurn(0, TurnKind.REPLY)], [])[0]
    assert figure.no_reply is True and figure.voice_to_voice_ms is None


def test_a_reply_is_looked_for_only_before_the_callers_next_turn() -> None:
    recording = CallRecording()
    _send(recording, 0.0, _loud(1.0), utterance=0)
    _send(recording, 3.0, _loud(1.0), utterance=1)
    _hear(recording, 4.5, _loud(0.5), 0.0)
    turns = [PlayedTurn(0, TurnKind.REPLY), PlayedTurn(1, TurnKind.REPLY)]
    first, second = measure_call(recording, turns, sounds(recording.heard))
    assert first.no_reply is True
    assert second.voice_to_voice_ms == 500.0


def test_barge_in_pause_and_stop() -> None:
    # the agent talks from 0 to 1.4 s, pauses, resumes 1.5-1.7 s, then stops for good;
    # the caller talks over it from 1.0 to 2.5 s
    heard = [Sound(0.0, 1.4), Sound(1.5, 1.7), Sound(3.0, 4.0)]
    assert paused_at(heard, 1.0) == 1.7  # 1.4 -> 1.5 is shorter than a pause
    assert stopped_at(heard, 1.0, 2.5) == 1.7
    heard = [Sound(0.0, 1.2), Sound(1.6, 3.0)]  # pauses 1.2-1.6 then carries on
    assert paused_at(heard, 1.0) == 1.2
    assert stopped_at(heard, 1.0, 2.5) is None  # still talking when the caller finished


def test_barge_in_figures_from_a_recording() -> None:
    recording = CallRecording()
    _hear(recording, 0.0, _loud(1.3), 0.0)
    _send(recording, 1.0, _loud(1.0), utterance=0)
    _hear(recording, 2.3, _loud(0.5), 5.0)  # the reply to the barge-in
    figure = measure_call(recording, [PlayedTurn(0, TurnKind.BARGE_IN)], sounds(recording.heard))[0]
    assert figure.barge_in_pause_ms == 300.0
    assert figure.barge_in_stop_ms == 300.0
    assert figure.voice_to_voice_ms == 300.0


def test_agent_audio_inside_a_planned_pause_is_a_cut_off() -> None:
    recording = CallRecording()
    audio = np.concatenate([_loud(1.0), _quiet(0.8), _loud(1.0)])
    _send(recording, 0.0, audio, utterance=0)
    turn = PlayedTurn(0, TurnKind.REPLY, pauses_s=((1.0, 1.8),))
    _hear(recording, 1.6, _loud(0.3), 0.0)
    cut = measure_call(recording, [turn], sounds(recording.heard))[0]
    assert cut.cut_off is True
    clean = CallRecording()
    _send(clean, 0.0, audio, utterance=0)
    _hear(clean, 3.1, _loud(0.3), 0.0)
    figure = measure_call(clean, [turn], sounds(clean.heard))[0]
    assert figure.cut_off is False
    assert figure.voice_to_voice_ms == 300.0


def test_browser_playout_adds_its_buffer_on_a_steady_stream() -> None:
    recording = CallRecording()
    _hear(recording, 1.0, _loud(0.2), 100.0)
    played = browser_playout(recording.heard, 0.06)
    assert [round(p.at - h.at, 6) for p, h in zip(played, recording.heard, strict=True)] == [
        0.06
    ] * 10


def test_browser_playout_holds_early_packets_and_rebuffers_after_a_late_one() -> None:
    packets = [
        HeardPacket(1.000, 0.00, _loud(0.02), RATE),
        HeardPacket(1.005, 0.02, _loud(0.02), RATE),  # early: waits for its slot
        HeardPacket(1.200, 0.04, _loud(0.02), RATE),  # late: the buffer ran dry
        HeardPacket(1.205, 0.06, _loud(0.02), RATE),
    ]
    played = [round(p.at, 3) for p in browser_playout(packets, 0.06)]
    assert played == [1.06, 1.08, 1.26, 1.28]


def test_microphone_records_which_samples_of_which_utterance_went_out_when() -> None:
    recording = CallRecording()
    microphone = Microphone(RATE, recording, now=lambda: 0.0)
    microphone.say(AudioFrame(_loud(0.03), RATE), 7)
    microphone.take_frame(2.0)
    microphone.take_frame(2.02)
    microphone.take_frame(2.04)
    assert [len(frame.spans) for frame in recording.sent] == [1, 1, 0]
    assert recording.utterance_time(7, 200) == 2.02 + 40 / RATE
    assert recording.utterance_time(7, 240) is None
    assert not microphone.speaking


def test_browser_playout_drains_a_backlog_back_to_its_delay() -> None:
    packets = [
        HeardPacket(1.000, 0.00, _loud(0.02), RATE),
        HeardPacket(1.300, 0.02, _loud(0.02), RATE),  # the sender stalled: re-buffered
        HeardPacket(1.301, 0.04, _loud(0.02), RATE),  # its catch-up burst waits its turn
        HeardPacket(1.302, 0.06, _loud(0.02), RATE),
        HeardPacket(1.303, 0.08, _loud(0.02), RATE),
        HeardPacket(1.304, 0.10, _loud(0.02), RATE),
        HeardPacket(1.305, 0.12, _loud(0.02), RATE),
        HeardPacket(1.306, 0.14, _loud(0.02), RATE),
    ]
    played = browser_playout(packets, 0.06)
    assert [round(p.at, 3) for p in played[:4]] == [1.06, 1.36, 1.38, 1.40]
    # no packet waits more than the buffer and the drain margin: the backlog is played faster
    waits = [p.at - h.at for p, h in zip(played, packets, strict=True)]
    assert all(0.06 - 1e-9 <= wait <= 0.1 + 1e-9 for wait in waits)
    assert round(played[4].at, 3) == 1.363  # would have waited 117 ms: back to 60
