"""Benchmark scenarios: what synthetic callers say, in which voices, and what they expect back.

A scenario is a TOML file (see ``benchmarks/scenarios/``)::

    name = "order-status"
    language = "de"        # optional: the callers speak German (espeak-ng's German voices)
    [[callers]]            # per-call values for {placeholders}, taken in turn by each call
    order = "four seven seven zero zero"
    phone = "zero three two one"

    [[turns]]
    say = "Hi, I ordered a grinder two weeks ago and I'd like to know where it is."
    expect = ["order number"]          # every entry must be in the reply; "a|b": either
    [[turns]]
    say = "It's {order}."
    [[turns]]
    say = "The last four digits of my phone are <pause 0.8> {phone}."   # a planned pause
    [[turns]]
    say = "Can I talk to a person instead?"
    cue = "during_reply"               # talk over the agent's reply...
    into_reply_s = 1.5                 # ...once it has been speaking this long

Each call renders its lines with one voice (espeak-ng variants and the Piper voice, in turn)
at 16 kHz for WebRTC, or as 8 kHz telephone audio for SIP, and caches them as WAV files. A
scenario with a ``language`` is spoken by that language's espeak-ng voices
(``voices.LANGUAGE_VOICES``), and its ``expect`` keywords are in that language.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.audio.telephone import TELEPHONE_RATE, telephone_line
from voice_agent.audio.wav import read_wav, write_wav
from voice_agent.bench.results import TurnKind
from voice_agent.bench.voices import ESPEAK_VOICES, LANGUAGE_VOICES, EspeakVoice, trim_silence

_PAUSE = re.compile(r"<pause\s+([0-9.]+)>")
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
PIPER_VOICES = ("piper:1.0", "piper:1.15")
"""The Piper voice at its own pace and 15% slower (length scale)."""
VOICES: tuple[str, ...] = (*ESPEAK_VOICES, *PIPER_VOICES)


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with what is wrong and where."""


@dataclass(frozen=True, slots=True)
class ScenarioTurn:
    say: str
    expect: tuple[str, ...] = ()
    kind: TurnKind = TurnKind.REPLY
    gap_s: float = 0.8
    """REPLY: how long the agent has been quiet before the caller speaks."""
    into_reply_s: float = 1.5
    """BARGE_IN: how long the agent has been speaking when the caller talks over it."""


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    turns: tuple[ScenarioTurn, ...]
    callers: tuple[Mapping[str, str], ...]
    source: Path | None = None
    language: str | None = None
    """The language the callers speak (a key of LANGUAGE_VOICES); None: the English default
    voices, Piper included."""

    @property
    def voices(self) -> tuple[str, ...]:
        return VOICES if self.language is None else LANGUAGE_VOICES[self.language]


@dataclass(frozen=True, slots=True)
class RenderedTurn:
    turn: ScenarioTurn
    text: str
    audio: AudioFrame
    pauses_s: tuple[tuple[float, float], ...]
    """Planned pauses, in seconds from the first sample of `audio`."""


def load_scenario(path: Path) -> Scenario:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read the scenario: {error}") from None
    return parse_scenario(data, path)


def parse_scenario(data: Mapping[str, Any], source: Path | None = None) -> Scenario:
    where = str(source or "scenario")
    turns_data = data.get("turns")
    if not isinstance(turns_data, list) or not turns_data:
        raise ScenarioError(f"{where}: needs at least one [[turns]] entry")
    callers_data = data.get("callers", [{}])
    if not isinstance(callers_data, list) or not all(isinstance(c, dict) for c in callers_data):
        raise ScenarioError(f"{where}: [[callers]] entries must be tables of text values")
    callers = tuple({str(k): str(v) for k, v in c.items()} for c in callers_data) or ({},)
    turns = tuple(_turn(entry, f"{where}: turn {n}") for n, entry in enumerate(turns_data, 1))
    for number, turn in enumerate(turns, 1):
        for name in _PLACEHOLDER.findall(turn.say):
            if any(name not in caller for caller in callers):
                raise ScenarioError(f"{where}: turn {number} uses {{{name}}}, not in every caller")
    name = str(data.get("name") or (source.stem if source else "scenario"))
    return Scenario(name, turns, callers, source, _language(data.get("language"), where))


def _language(value: object, where: str) -> str | None:
    if value is None:
        return None
    if value not in LANGUAGE_VOICES:
        known = ", ".join(LANGUAGE_VOICES)
        raise ScenarioError(f"{where}: language must be one of {known}, not {value!r}")
    return str(value)


def _turn(entry: object, where: str) -> ScenarioTurn:
    if not isinstance(entry, dict) or not isinstance(entry.get("say"), str) or not entry["say"]:
        raise ScenarioError(f'{where}: needs say = "what the caller says"')
    expect = entry.get("expect", [])
    if not isinstance(expect, list) or not all(isinstance(e, str) and e for e in expect):
        raise ScenarioError(f"{where}: expect must be a list of keywords")
    cue = entry.get("cue", "after_reply")
    kinds = {"after_reply": TurnKind.REPLY, "during_reply": TurnKind.BARGE_IN}
    if cue not in kinds:
        raise ScenarioError(f"{where}: cue must be after_reply or during_reply, not {cue!r}")
    try:
        gap_s = float(entry.get("gap_s", 0.8))
        into_reply_s = float(entry.get("into_reply_s", 1.5))
    except (TypeError, ValueError):
        raise ScenarioError(f"{where}: gap_s and into_reply_s are seconds") from None
    return ScenarioTurn(entry["say"], tuple(expect), kinds[cue], gap_s, into_reply_s)


def scenario_files(directory: Path) -> list[Path]:
    """The folder's *.toml files; a folder without any, those of its sub-folders (one per
    language, as in benchmarks/scenarios-languages/)."""
    files = sorted(directory.glob("*.toml")) or sorted(directory.glob("*/*.toml"))
    if not files:
        raise ScenarioError(f"{directory}: no scenario files (*.toml, or */*.toml)")
    return files


def by_language(scenarios: Sequence[Scenario]) -> dict[str | None, list[Scenario]]:
    """The scenarios grouped by the language their callers speak, in first-seen order."""
    groups: dict[str | None, list[Scenario]] = {}
    for scenario in scenarios:
        groups.setdefault(scenario.language, []).append(scenario)
    return groups


# --- rendering ---------------------------------------------------------------------------------


Speak = Callable[[str, str], AudioFrame]
"""(text, voice name) -> speech at any rate, silence trimmed."""


class Renderer:
    """Renders scenario lines in a voice, at 16 kHz or as 8 kHz telephone audio, cached as WAV."""

    def __init__(self, cache: Path, piper: Callable[[str, float], AudioFrame] | None) -> None:
        self._cache = cache
        self._piper = piper

    def render(
        self, scenario: Scenario, call: int, voice: str, telephone: bool
    ) -> list[RenderedTurn]:
        values = scenario.callers[call % len(scenario.callers)]
        return [self._turn(turn, values, voice, telephone) for turn in scenario.turns]

    def _turn(
        self, turn: ScenarioTurn, values: Mapping[str, str], voice: str, telephone: bool
    ) -> RenderedTurn:
        text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], turn.say)
        pieces = _PAUSE.split(text)
        parts: list[np.ndarray[Any, np.dtype[np.int16]]] = []
        pauses: list[tuple[float, float]] = []
        position = 0
        for index, piece in enumerate(pieces):
            if index % 2:  # a pause length
                length = round(float(piece) * PIPELINE_RATE)
                pauses.append((position / PIPELINE_RATE, (position + length) / PIPELINE_RATE))
                parts.append(np.zeros(length, dtype=np.int16))
                position += length
            elif piece.strip():
                speech = self._speech(piece.strip(), voice).samples
                parts.append(speech)
                position += len(speech)
        audio = AudioFrame(np.concatenate(parts), PIPELINE_RATE)
        if telephone:
            audio = telephone_line(audio)
        spoken = _PAUSE.sub(" ", text).replace("  ", " ").strip()
        return RenderedTurn(turn, spoken, audio, tuple(pauses))

    def _speech(self, text: str, voice: str) -> AudioFrame:
        """16 kHz speech, trimmed, from the WAV cache when it was rendered before."""
        key = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:20]
        path = self._cache / f"{voice.replace(':', '-').replace('+', '_')}-{key}.wav"
        if path.exists():
            return read_wav(path)
        if voice.startswith("piper:"):
            if self._piper is None:
                raise ScenarioError(f"voice {voice} needs the Piper model")
            audio = self._piper(text, float(voice.split(":", 1)[1]))
        else:
            audio = EspeakVoice(voice).speak(text)
        audio = trim_silence(resample(audio, PIPELINE_RATE))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, audio)
        return audio


def voice_for(call: int, voices: Sequence[str] = VOICES) -> str:
    return voices[call % len(voices)]


def caller_voice(scenario: Scenario, call: int, scenario_count: int) -> str:
    """The voice of call number `call`, which says `scenario` (one of `scenario_count`, taken
    in turn).

    Without a language, the voices rotate with the calls (as they always have). A language's
    calls take its next voice each round of its scenarios, so that every scenario is heard in
    every voice even when there are as many scenarios as voices."""
    if scenario.language is None:
        return voice_for(call)
    return voice_for(call // max(1, scenario_count), scenario.voices)


def line_rate(telephone: bool) -> int:
    return TELEPHONE_RATE if telephone else PIPELINE_RATE
