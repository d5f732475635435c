"""Plays a scenario into a live call: each line on its cue, in real time.

The caller listens to what arrives (decoded on arrival) only to know when to speak: after
the agent's reply has ended and a short gap passed, or over the agent once it has been
talking for a while (a barge-in). The figures are read from the recording afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from voice_agent.bench.measures import AUDIBLE_LEVEL, PlayedTurn
from voice_agent.bench.results import TurnKind
from voice_agent.bench.scenario import RenderedTurn
from voice_agent.bench.timeline import CallRecording, Microphone

POLL_S = 0.02
GREETING_WAIT_S = 4.0
"""An agent that has said nothing this long after answering does not greet: speak first."""
GREETING_GAP_S = 0.8
"""Quiet this long after the agent spoke: its greeting is over (longer than a sentence pause)."""
REPLY_WAIT_S = 15.0
"""An agent silent this long after the caller spoke is not answering: go on."""
LONGEST_REPLY_S = 60.0
SAME_STRETCH_S = 0.5
"""Quiet shorter than this (between clauses) does not end the agent's speaking."""


class LiveCall(Protocol):
    @property
    def recording(self) -> CallRecording: ...

    @property
    def microphone(self) -> Microphone: ...

    @property
    def ended(self) -> asyncio.Event: ...


class AgentListener:
    """Follows the agent's audio as it arrives: when it last made a sound, since when it talks."""

    def __init__(self, recording: CallRecording) -> None:
        self._recording = recording
        self._seen = 0
        self.last_sound: float | None = None
        self.talking_since: float | None = None

    def update(self) -> None:
        heard = self._recording.heard
        for packet in heard[self._seen :]:
            loud = np.nonzero(np.abs(packet.samples.astype(np.int32)) > AUDIBLE_LEVEL)[0]
            if not len(loud):
                continue
            first = packet.at + int(loud[0]) / packet.rate
            if self.last_sound is None or first - self.last_sound > SAME_STRETCH_S:
                self.talking_since = first
            self.last_sound = max(self.last_sound or 0.0, packet.at + int(loud[-1]) / packet.rate)
        self._seen = len(heard)

    def quiet_for(self, now: float) -> float:
        return float("inf") if self.last_sound is None else now - self.last_sound

    def talking_for(self, now: float) -> float:
        if self.talking_since is None or self.quiet_for(now) > SAME_STRETCH_S:
            return 0.0
        return now - self.talking_since


async def play_scenario(call: LiveCall, turns: Sequence[RenderedTurn]) -> list[PlayedTurn]:
    """Say each line on its cue; returns the turns that were said, with their actual kind."""
    listener = AgentListener(call.recording)
    played: list[PlayedTurn] = []
    await _wait_for_greeting(call, listener)
    said_until: float | None = None  # when the caller's last line finished going out
    for index, rendered in enumerate(turns):
        if call.ended.is_set():
            break
        kind = await _wait_for_cue(call, listener, rendered, said_until)
        if call.ended.is_set():
            break
        call.microphone.say(rendered.audio, index)
        played.append(PlayedTurn(index, kind, rendered.pauses_s, rendered.turn.expect))
        await _until_said(call)
        said_until = time.monotonic()
    if not call.ended.is_set():
        await _wait_until_answered(call, listener, 1.0, said_until)
    return played


async def _until_said(call: LiveCall) -> None:
    """Until the microphone has sent all it was given (polled: it paces itself)."""
    while True:
        if not call.microphone.speaking or call.ended.is_set():
            return
        await asyncio.sleep(POLL_S)


async def _wait_for_greeting(call: LiveCall, listener: AgentListener) -> None:
    started = time.monotonic()
    while not call.ended.is_set():
        listener.update()
        now = time.monotonic()
        if listener.last_sound is None and now - started > GREETING_WAIT_S:
            return
        if listener.last_sound is not None and listener.quiet_for(now) >= GREETING_GAP_S:
            return
        if now - started > LONGEST_REPLY_S:
            return
        await asyncio.sleep(POLL_S)


async def _wait_for_cue(
    call: LiveCall, listener: AgentListener, turn: RenderedTurn, since: float | None
) -> TurnKind:
    if turn.turn.kind is TurnKind.REPLY:
        await _wait_until_answered(call, listener, turn.turn.gap_s, since)
        return TurnKind.REPLY
    started = time.monotonic()
    while not call.ended.is_set():
        listener.update()
        now = time.monotonic()
        if listener.talking_for(now) >= turn.turn.into_reply_s:
            return TurnKind.BARGE_IN
        replied = _answered(listener, since)
        if replied and listener.quiet_for(now) >= max(turn.turn.gap_s, SAME_STRETCH_S + 0.1):
            return TurnKind.REPLY  # the reply ended before there was time to talk over it
        if now - started > REPLY_WAIT_S and not replied:
            return TurnKind.REPLY
        await asyncio.sleep(POLL_S)
    return TurnKind.REPLY


def _answered(listener: AgentListener, since: float | None) -> bool:
    """Has the agent made a sound since the caller's last line (always, before the first)?"""
    if since is None:
        return True
    return listener.last_sound is not None and listener.last_sound > since


async def _wait_until_answered(
    call: LiveCall, listener: AgentListener, gap_s: float, since: float | None
) -> None:
    """Until the agent has answered the last line and been quiet `gap_s` (or gave no answer)."""
    started = time.monotonic()
    while not call.ended.is_set():
        listener.update()
        now = time.monotonic()
        answered = _answered(listener, since)
        if answered and listener.quiet_for(now) >= gap_s:
            return
        if not answered and now - started > REPLY_WAIT_S:
            return
        if now - started > LONGEST_REPLY_S:
            return
        await asyncio.sleep(POLL_S)
