"""Whole calls in each language from WAV files: `voice-agent call --transport wav` with the
default settings (no language given: the caller's is detected), a caller's question spoken by
espeak-ng in that language, once at 16 kHz and once as an 8 kHz telephone line. The agent's
reply, as recorded, is transcribed by the multilingual Whisper with the language detected,
not fixed: it must be in the caller's language and answer the request (both questions need
the order number first, so the agent asks for it in the caller's words).

Real parts end to end: espeak-ng speech, the agent's own ASR, dialogue, Piper voice, and an
independent transcription of what it said. The greeting (before the caller speaks, in the
default language) is left out of the transcription.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_cli
from voice_agent.audio import AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.audio.telephone import telephone_line
from voice_agent.audio.wav import read_wav, write_wav
from voice_agent.bench.voices import espeak

GREETING_S = 6.0
"""Silence before the caller speaks: the greeting plays first."""
LISTEN_S = 14.0
"""The caller stays on the line this long after the question, for the whole reply."""
REPLY_S = 12.0
"""How much of the agent's audio after the question is transcribed: the reply's first
sentences (where it asks for the order number), not a later reprompt."""
TRANSCRIBER = {"VOICE_AGENT_ASR__MODEL": "whisper-base"}
"""The multilingual model for reading the agent's reply back (language detected)."""


@dataclass(frozen=True, slots=True)
class Call:
    language: str
    voice: str
    """espeak-ng's voice for the caller."""
    rate: int
    """16000: a web caller; 8000: a telephone line (band-limited, mu-law)."""
    question: str
    asks_for: tuple[str, ...]
    """Word stems one of which the reply must say (its words for the order number)."""

    @property
    def id(self) -> str:
        return f"{self.language}-{self.rate // 1000}k"


ORDER_WORDS = {
    "en": ("order",),
    "de": ("bestell", "auftrag"),
    "es": ("pedido", "orden", "compra"),
    "fr": ("commande",),
    "pt": ("pedido", "compra", "encomenda"),
}
# One clause each: a pause inside the question would end the caller's turn early.
STATUS_QUESTIONS = {
    "en": "I would like to know where my order is at the moment.",
    "de": "Ich möchte gerne wissen wo meine Bestellung gerade ist.",
    "es": "Quería saber dónde está mi pedido ahora mismo.",
    "fr": "Je voudrais savoir où en est ma commande.",
    "pt": "Eu queria saber onde está o meu pedido agora.",
}
DUTIES_QUESTIONS = {
    "en": "Do I have to pay anything at customs for my parcel?",
    "de": "Muss ich für mein Paket beim Zoll noch etwas bezahlen?",
    "es": "¿Tengo que pagar algo en la aduana por mi paquete?",
    "fr": "Est-ce que je dois payer des frais de douane pour mon colis ?",
    "pt": "Eu tenho que pagar alguma taxa na alfândega pelo meu pacote?",
}
VOICES = {"en": "en-gb", "de": "de", "es": "es", "fr": "fr", "pt": "pt-br"}
CALLS = [
    call
    for language, voice in VOICES.items()
    for call in (
        Call(language, voice, 16000, STATUS_QUESTIONS[language], ORDER_WORDS[language]),
        Call(language, voice, 8000, DUTIES_QUESTIONS[language], ORDER_WORDS[language]),
    )
]


def _caller_audio(call: Call) -> tuple[AudioFrame, float]:
    """The caller's side of the call at its rate, and when the question ends (seconds)."""
    question = resample(espeak(call.question, call.voice), 16000)
    whole = AudioFrame.concat(
        [AudioFrame.silence(GREETING_S), question, AudioFrame.silence(LISTEN_S)]
    )
    heard = telephone_line(whole) if call.rate == 8000 else whole
    return heard, GREETING_S + question.duration


def _reply_after(recorded: AudioFrame, start_s: float) -> AudioFrame:
    """The agent's audio for REPLY_S after the caller's question (the greeting left out)."""
    first = round(start_s * recorded.rate)
    last = first + round(REPLY_S * recorded.rate)
    return AudioFrame(recorded.samples[first:last], recorded.rate)


def _transcribe(path: Path) -> dict[str, str]:
    result = run_cli(["transcribe", "--json", str(path)], env=TRANSCRIBER)
    assert result.returncode == 0, result.stderr
    heard: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return heard


@pytest.mark.parametrize("call", CALLS, ids=[call.id for call in CALLS])
def test_a_caller_is_answered_in_their_own_language(
    call: Call, tmp_path: Path, isolated_data_dir: dict[str, str]
) -> None:
    loaded = run_cli(["data", "demo"], env=isolated_data_dir)
    assert loaded.returncode == 0, loaded.stderr
    caller, question_end = _caller_audio(call)
    assert caller.rate == call.rate
    write_wav(tmp_path / "caller.wav", caller)
    result = run_cli(
        ["call", "--transport", "wav", "--play", str(tmp_path / "caller.wav"),
         "--record", str(tmp_path / "agent.wav"), "--fast"],
        env=isolated_data_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    reply = _reply_after(read_wav(tmp_path / "agent.wav"), question_end)
    assert reply.duration > 1.0
    write_wav(tmp_path / "reply.wav", reply)
    heard = _transcribe(tmp_path / "reply.wav")
    said = heard["text"].lower()
    context = f"call log:\n{result.stdout}\nreply heard as ({heard['language']}): {said}"
    assert heard["language"] == call.language, context
    assert any(re.search(rf"\b{stem}", said) for stem in call.asks_for), context
