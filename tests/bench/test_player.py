"""The caller's ear while it plays a scenario: when the agent talks and since when."""

from __future__ import annotations

import numpy as np

from voice_agent.bench.player import AgentListener
from voice_agent.bench.timeline import CallRecording, HeardPacket

RATE = 8000


def _packet(at: float, loud: bool) -> HeardPacket:
    samples = np.full(160, 5000 if loud else 0, dtype=np.int16)
    return HeardPacket(at, at, samples, RATE)


def test_a_pause_between_clauses_does_not_end_the_agents_talking() -> None:
    recording = CallRecording()
    listener = AgentListener(recording)
    recording.heard += [_packet(10.0 + n * 0.02, True) for n in range(50)]  # 10.0-11.0
    recording.heard += [_packet(11.3 + n * 0.02, True) for n in range(25)]  # after 0.3 s
    listener.update()
    assert listener.talking_since == 10.0
    assert listener.last_sound is not None and abs(listener.last_sound - 11.8) < 0.021
    assert abs(listener.talking_for(11.85) - 1.85) < 1e-9
    assert abs(listener.quiet_for(12.3) - 0.5) < 0.021


def test_a_new_stretch_starts_after_a_real_silence_and_quiet_packets_change_nothing() -> None:
    recording = CallRecording()
    listener = AgentListener(recording)
    recording.heard += [_packet(1.0, True), _packet(1.02, False), _packet(3.0, True)]
    listener.update()
    assert listener.talking_since == 3.0
    assert listener.talking_for(5.0) == 0.0  # quiet for two seconds: not talking now
    assert listener.quiet_for(5.0) > 1.9
    assert AgentListener(CallRecording()).quiet_for(1.0) == float("inf")
