"""Did the caller hear the right answer? The replies heard, transcribed after the run.

Transcription runs when every call of a run has finished, so it never competes with the agent
for the CPU while latency is being measured."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

import numpy as np

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.bench.measures import Sound
from voice_agent.bench.timeline import HeardPacket

Transcribe = Callable[[AudioFrame], str]
_NOT_WORD = re.compile(r"[^\w' -]+|_")
_APOSTROPHE_BETWEEN = re.compile(r"(?<=\w)['’](?=\w)")


def reply_audio(heard: Sequence[HeardPacket], start: float, end: float) -> AudioFrame:
    """The agent's audio heard from `start` to `end`, in the sender's order, at 16 kHz."""
    packets = sorted(
        (p for p in heard if start - 0.05 <= p.at < end), key=lambda packet: packet.media_s
    )
    if not packets:
        return AudioFrame(np.zeros(0, dtype=np.int16), PIPELINE_RATE)
    joined = AudioFrame(np.concatenate([p.samples for p in packets]), packets[0].rate)
    return resample(joined, PIPELINE_RATE)


def reply_window(heard: Sequence[Sound], after: float, until: float) -> tuple[float, float] | None:
    """From the first sound after the caller's speech to the caller's next line."""
    for sound in heard:
        if sound.start >= after and sound.start < until:
            last = max(s.end for s in heard if s.start < until)
            return sound.start, min(until, last + 0.1)
    return None


def normalized(text: str) -> str:
    """Lower-case words without accents or punctuation, one space apart, in any language:
    "Über 3-4 Tage, l'équipe." -> "uber 3 4 tage l'equipe" (ß -> ss, ’ -> ')."""
    folded = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    bare = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", bare.replace("-", " ")).split())


def holds_keywords(transcript: str, expect: Sequence[str]) -> bool:
    """Every expected entry is in the transcript; an entry "a|b" needs either.

    Entries match from a word's start, accents and case aside; a word elided onto the next
    ("l'équipe", "d'envoi") is also a word of its own ("equipe")."""
    said = f" {normalized(transcript)} "
    said += f"|{_APOSTROPHE_BETWEEN.sub(' ', said)}"  # "|" is never in an entry: no match across
    return all(
        any(f" {normalized(option)}" in said for option in entry.split("|") if option.strip())
        for entry in expect
    )
