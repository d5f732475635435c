"""Fake stages for unit tests of one piece (the session's wiring): never the only test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from voice_agent.audio import AudioFrame
from voice_agent.audio.levels import rms_dbfs
from voice_agent.stages.asr import AsrHint, Expect, Interim, Transcript, WholeUtterance
from voice_agent.stages.vad import VadEvent, VadEventKind
from voice_agent.store.writes import TurnRecord


class EnergyVad:
    """Speech = frames above a level; hangover in frames; boundaries from frame times."""

    def __init__(
        self,
        threshold_dbfs: float = -40.0,
        hangover_frames: int = 5,
        start_frames: int = 1,
        pause_frames: int | None = None,
    ) -> None:
        self._threshold = threshold_dbfs
        self._hangover = hangover_frames
        self._start_frames = start_frames
        self._pause_frames = pause_frames
        """Quiet frames after which a tentative PAUSE is reported (None: never)."""
        self.reset()

    def reset(self) -> None:
        self._speaking = False
        self._quiet = 0
        self._loud_run: list[float] = []
        self._last_loud_end = 0.0

    def process(self, frame: AudioFrame) -> VadEvent | None:
        loud = rms_dbfs(frame.samples) > self._threshold
        if loud:
            paused = self._speaking and self._pause_frames is not None
            paused = paused and self._quiet >= (self._pause_frames or 0)
            self._quiet = 0
            self._last_loud_end = frame.end
            if paused:
                return VadEvent(VadEventKind.RESUME, frame.timestamp)
            if not self._speaking:
                self._loud_run.append(frame.timestamp)
                if len(self._loud_run) < self._start_frames:
                    return None
                self._speaking = True
                return VadEvent(VadEventKind.SPEECH_START, self._loud_run[0])
            return None
        self._loud_run = []
        if self._speaking:
            self._quiet += 1
            if self._quiet >= self._hangover:
                self._speaking = False
                return VadEvent(VadEventKind.SPEECH_END, self._last_loud_end)
            if self._quiet == self._pause_frames:
                return VadEvent(VadEventKind.PAUSE, self._last_loud_end)
        return None


class ScriptedAsr:
    """Answers each utterance by its duration: the longest script key not longer than it."""

    def __init__(
        self, by_min_duration: dict[float, str], confidence: float = 0.9, rewritten: bool = False
    ) -> None:
        self._table = sorted(by_min_duration.items())
        self._confidence = confidence
        self._rewritten = rewritten
        self.calls: list[tuple[float, AsrHint | None]] = []

    async def transcribe(self, audio: AudioFrame, hint: AsrHint | None = None) -> Transcript:
        self.calls.append((audio.duration, hint))
        text = self.text_for(audio.duration)
        return Transcript(
            text=text,
            language="en",
            confidence=self._confidence,
            digits_rewritten=self._rewritten,
        )

    def text_for(self, duration_s: float) -> str:
        text = ""
        for minimum, candidate in self._table:
            if duration_s >= minimum:
                text = candidate
        return text


class ScriptedStreaming:
    """Streams on a ScriptedAsr: a partial pass every `every_s` of audio, its interim the
    script's text for the audio so far; the transcript that of a whole-utterance pass."""

    def __init__(self, asr: ScriptedAsr, every_s: float = 0.5) -> None:
        self.asr = asr
        self.every_s = every_s
        self.partials = 0

    def stream(self, hint: AsrHint) -> ScriptedStream:
        return ScriptedStream(self, hint)

    def interim(self, duration_s: float) -> Interim:
        self.partials += 1
        words = self.asr.text_for(duration_s).split()
        return Interim(" ".join(words[:-1]), " ".join(words[-1:]))


class ScriptedStream:
    def __init__(self, streaming: ScriptedStreaming, hint: AsrHint) -> None:
        self._streaming = streaming
        self._whole = WholeUtterance(streaming.asr, hint)
        self._duration_s = 0.0
        self._passed_s = 0.0

    def append(self, frame: AudioFrame) -> None:
        self._whole.append(frame)
        self._duration_s += frame.duration

    def partial(self) -> Awaitable[Interim] | None:
        if self._duration_s - self._passed_s < self._streaming.every_s:
            return None
        self._passed_s = self._duration_s
        return self._interim(self._duration_s)

    async def _interim(self, duration_s: float) -> Interim:
        return self._streaming.interim(duration_s)

    async def transcript(self) -> Transcript:
        return await self._whole.transcript()


class ToneTts:
    """0.25 s of a 300 Hz tone per word, in 20 ms frames."""

    def __init__(self) -> None:
        self.synthesized: list[str] = []
        self.closed = 0

    async def synthesize(self, text: str, language: str = "en") -> AsyncIterator[AudioFrame]:
        self.synthesized.append(text)
        seconds = 0.25 * max(1, len(text.split()))
        t = np.arange(round(16000 * seconds)) / 16000
        audio = AudioFrame.from_float(0.3 * np.sin(2 * np.pi * 300 * t), 16000)
        try:
            for frame in audio.chunks(0.02):
                yield frame
        finally:
            self.closed += 1


@dataclass(frozen=True)
class EchoState:
    turns: int = 0
    heard: str = ""


@dataclass(frozen=True)
class EchoReply:
    chunks: tuple[str, ...]
    state: Any
    writes: tuple[Any, ...] = ()
    expect: Expect = Expect.FREE
    end_call: bool = False
    language: str = "en"
    listen: str | None = None


class EchoDialogue:
    """Repeats what it heard; "bye" ends the call; writes one marker per reply."""

    def __init__(self) -> None:
        self.transcripts: list[Transcript | None] = []
        """The transcript each turn came with (None for keypad turns)."""

    def initial_state(self) -> EchoState:
        return EchoState()

    def greeting(self, state: Any) -> EchoReply:
        return EchoReply(("Hello.", "How can I help you today?"), state)

    def respond(
        self,
        text: str,
        dtmf: str | None,
        state: Any,
        now: datetime,
        transcript: Transcript | None = None,
    ) -> EchoReply:
        self.transcripts.append(transcript)
        heard = text or f"keys {dtmf}"
        next_state = replace(state, turns=state.turns + 1)
        if "bye" in heard.lower():
            return EchoReply(("Goodbye.",), next_state, end_call=True)
        return EchoReply(
            ("You said:", heard, "Is there anything else I can help you with today?"),
            next_state,
            writes=(f"write-{heard}",),
        )

    def heard(self, state: Any, played_text: str) -> Any:
        return replace(state, heard=played_text)

    def entity_complete(self, text: str, state: Any) -> bool | None:
        return None

    def call_ended(self, state: Any, now: datetime) -> tuple[Any, ...]:
        return ()

    def say(self, state: Any, key: str, **values: str) -> str:
        return f"({key})"


@dataclass
class ListRecorder:
    turns: list[TurnRecord] = field(default_factory=list)
    writes: list[Any] = field(default_factory=list)

    def add_turn(self, turn: TurnRecord) -> None:
        self.turns.append(turn)

    def apply(self, writes: Sequence[Any]) -> None:
        self.writes.extend(writes)


def burst(seconds: float, dbfs: float = -20.0, seed: int = 1) -> AudioFrame:
    """Noise at a level (for the energy VAD only)."""
    rng = np.random.default_rng(seed)
    samples = rng.normal(0, 32768 * 10 ** (dbfs / 20), round(16000 * seconds))
    return AudioFrame(np.clip(samples, -32768, 32767).astype(np.int16), 16000)
