"""The figures of one call, read from its recording after the call (never while it runs).

Times on both sides come from the caller's one monotonic clock:

- the caller's speech: the first and last loud sample of each utterance as it went out
  (`SentFrame.at` + offset);
- the agent's audio: every loud sample heard, at its packet's arrival + offset (`arrival`
  mode) or at its slot in a fixed playout buffer (`browser` mode, `browser_playout`).

"Loud" is one threshold on both sides (`AUDIBLE_LEVEL`), the same the calibration agent uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voice_agent.bench.results import TurnFigures, TurnKind
from voice_agent.bench.timeline import CallRecording, HeardPacket

AUDIBLE_LEVEL = 300
"""A sample above this magnitude (about -40 dBFS) is speech, on either side."""
JOIN_S = 0.03
"""Loud samples closer than this belong to one stretch of sound (syllables, zero crossings)."""
PAUSED_S = 0.25
"""The agent counts as paused once quiet this long (a little longer than a clause boundary)."""
OVERLAP_S = 0.1
"""Agent audio this close before the caller's speech end means the agent talked over it."""
REPLY_WAIT_S = 15.0
"""No agent audio this long after the caller stopped: no reply."""


@dataclass(frozen=True, slots=True)
class Sound:
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class PlayedTurn:
    """A turn as the caller played it: what the measures need to know beyond the recording."""

    index: int
    kind: TurnKind
    pauses_s: tuple[tuple[float, float], ...] = ()
    """Planned pauses inside the utterance, in seconds from its first sample."""
    expect: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SpeechBounds:
    start: float
    end: float


def sounds(packets: Sequence[HeardPacket], join_s: float = JOIN_S) -> list[Sound]:
    """The stretches of loud audio heard, in time order, close ones joined."""
    pieces: list[Sound] = []
    for packet in packets:
        loud = np.nonzero(np.abs(packet.samples.astype(np.int32)) > AUDIBLE_LEVEL)[0]
        if not len(loud):
            continue
        breaks = np.nonzero(np.diff(loud) > join_s * packet.rate)[0]
        firsts = np.concatenate([[loud[0]], loud[breaks + 1]])
        lasts = np.concatenate([loud[breaks], [loud[-1]]])
        for first, last in zip(firsts, lasts, strict=True):
            pieces.append(
                Sound(packet.at + first / packet.rate, packet.at + (last + 1) / packet.rate)
            )
    pieces.sort(key=lambda sound: sound.start)
    joined: list[Sound] = []
    for piece in pieces:
        if joined and piece.start - joined[-1].end <= join_s:
            joined[-1] = Sound(joined[-1].start, max(joined[-1].end, piece.end))
        else:
            joined.append(piece)
    return joined


def speech_bounds(recording: CallRecording, utterance: int) -> SpeechBounds | None:
    """When the caller's first and last loud sample of this utterance went out."""
    first: float | None = None
    last: float | None = None
    for frame in recording.sent:
        for span in frame.spans:
            if span.utterance != utterance:
                continue
            part = frame.samples[span.frame_offset : span.frame_offset + span.length]
            loud = np.nonzero(np.abs(part.astype(np.int32)) > AUDIBLE_LEVEL)[0]
            if not len(loud):
                continue
            start = frame.at + (span.frame_offset + int(loud[0])) / frame.rate
            first = start if first is None else first
            last = frame.at + (span.frame_offset + int(loud[-1]) + 1) / frame.rate
    if first is None or last is None:
        return None
    return SpeechBounds(first, last)


def first_sound_after(heard: Sequence[Sound], moment: float, until: float) -> Sound | None:
    for sound in heard:
        if sound.end > moment and sound.start < until:
            return sound
    return None


def audible_near(heard: Sequence[Sound], moment: float, before_s: float) -> bool:
    return any(s.end > moment - before_s and s.start <= moment for s in heard)


def paused_at(heard: Sequence[Sound], onset: float, quiet_s: float = PAUSED_S) -> float | None:
    """The first moment from `onset` on after which the agent stays quiet `quiet_s`."""
    moment = onset
    for sound in heard:
        if sound.end <= moment:
            continue
        if sound.start >= moment + quiet_s:
            return moment
        moment = sound.end
    return moment


def stopped_at(heard: Sequence[Sound], onset: float, speech_end: float) -> float | None:
    """From when the agent stayed quiet until the caller finished (None: it never did)."""
    during = [s for s in heard if s.start < speech_end and s.end > onset]
    if not during:
        return onset
    last = during[-1].end
    return None if last >= speech_end else max(onset, last)


def measure_call(
    recording: CallRecording,
    turns: Sequence[PlayedTurn],
    heard: Sequence[Sound],
    call: int = 0,
) -> list[TurnFigures]:
    """Each played turn's figures. `heard`: `sounds()` of the packets in the receive mode."""
    figures: list[TurnFigures] = []
    bounds = [speech_bounds(recording, turn.index) for turn in turns]
    ended = recording.ended_at if recording.ended_at is not None else float("inf")
    for position, (turn, said) in enumerate(zip(turns, bounds, strict=True)):
        if said is None:
            continue  # never went out: the call ended first
        following = next((b.start for b in bounds[position + 1 :] if b is not None), ended)
        figures.append(_turn_figures(turn, said, heard, following, recording, call))
    return figures


def _turn_figures(
    turn: PlayedTurn,
    said: SpeechBounds,
    heard: Sequence[Sound],
    next_start: float,
    recording: CallRecording,
    call: int,
) -> TurnFigures:
    pause_ms = stop_ms = None
    if turn.kind is TurnKind.BARGE_IN:
        paused = paused_at(heard, said.start)
        stopped = stopped_at(heard, said.start, said.end)
        pause_ms = None if paused is None else _ms(paused - said.start)
        stop_ms = None if stopped is None else _ms(stopped - said.start)
    overlapped = audible_near(heard, said.end, OVERLAP_S)
    reply = first_sound_after(heard, said.end, min(next_start, said.end + REPLY_WAIT_S))
    v2v = None
    if reply is not None and not overlapped:
        v2v = _ms(reply.start - said.end)
    return TurnFigures(
        call=call,
        turn=turn.index,
        kind=turn.kind,
        voice_to_voice_ms=v2v,
        barge_in_pause_ms=pause_ms,
        barge_in_stop_ms=stop_ms,
        cut_off=_cut_off(turn, said, heard, recording),
        overlapped=overlapped,
        no_reply=reply is None and not overlapped,
    )


def _cut_off(
    turn: PlayedTurn, said: SpeechBounds, heard: Sequence[Sound], recording: CallRecording
) -> bool | None:
    """Did agent audio start between the first planned pause and the caller's last word?"""
    if not turn.pauses_s:
        return None
    rate = recording.sent[0].rate if recording.sent else 8000
    pause_start = recording.utterance_time(turn.index, round(turn.pauses_s[0][0] * rate))
    if pause_start is None:
        return None
    return any(pause_start <= sound.start < said.end for sound in heard)


def _ms(seconds: float) -> float:
    return round(float(seconds) * 1000, 1)
