"""Each language's voice: time to first audio and intelligibility, on this machine.

    .venv/bin/python -m benchmarks.voices [--replies 30] [--languages en de es fr pt]

For every language, the configured voice (settings.tts.voices / tts.custom) speaks the 30
support replies of benchmarks/corpus/replies_<lang>.txt through the TTS stage (PiperTts, cache
off, the voice loaded and primed first, as warm_up does):

- first audio: time from `synthesize()` to its first 20 ms frame (p50 / p95);
- intelligibility: the whole reply transcribed by faster-whisper base (stock `transcribe`,
  beam 5) with the language fixed, scored as WER after normalising both sides the same way:
  lower case, accents and punctuation stripped, hyphens and apostrophes as spaces, numbers
  written as digits spelled as words in the language (num2words).

Results: benchmarks/results/voices.md (and voices.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel
from jiwer import wer
from num2words import num2words

from voice_agent.audio import AudioFrame
from voice_agent.languages import LOCALES, SUPPORTED
from voice_agent.models import ModelStore
from voice_agent.settings import Settings, TtsSettings, load_settings
from voice_agent.stages.tts.piper import PiperTts

HERE = Path(__file__).parent
RESULTS = HERE / "results"
CORPUS = HERE / "corpus"
WER_GOAL = 0.10
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    heard: str
    first_audio_ms: float
    duration_s: float
    wer: float


@dataclass(frozen=True, slots=True)
class VoiceResult:
    language: str
    voice: str
    replies: list[Reply]

    @property
    def first_audio_ms(self) -> list[float]:
        return [reply.first_audio_ms for reply in self.replies]

    @property
    def corpus_wer(self) -> float:
        """Word errors over all replies / reference words (not a mean of per-reply WERs)."""
        references = [normalise(r.text, self.language) for r in self.replies]
        hypotheses = [normalise(r.heard, self.language) for r in self.replies]
        return float(wer(references, hypotheses))


def normalise(text: str, language: str) -> str:
    """Lower case; digits as words of `language`; accents, punctuation, hyphens gone."""
    locale = LOCALES.get(language, "en")
    spelled = _NUMBER.sub(lambda m: f" {_spell(m.group(), locale)} ", text.lower())
    decomposed = unicodedata.normalize("NFKD", spelled)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", bare).split())


def _spell(number: str, locale: str) -> str:
    value = float(number.replace(",", ".")) if re.search(r"[.,]", number) else int(number)
    try:
        return str(num2words(value, lang=locale))
    except NotImplementedError:
        return str(num2words(value, lang=locale.split("_")[0]))


def corpus(language: str, count: int) -> list[str]:
    path = CORPUS / f"replies_{language}.txt"
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#")][:count]


async def measure(
    tts: PiperTts, whisper: WhisperModel, language: str, texts: list[str]
) -> list[Reply]:
    await tts.warm_up([language])
    replies: list[Reply] = []
    for text in texts:
        started = time.perf_counter()
        first: float | None = None
        frames: list[AudioFrame] = []
        async for frame in tts.synthesize(text, language):
            if first is None:
                first = time.perf_counter() - started
            frames.append(frame)
        audio = AudioFrame.concat(frames)
        segments, _ = whisper.transcribe(audio.to_float(), language=language, beam_size=5)
        heard = " ".join(segment.text.strip() for segment in segments)
        score = float(wer(normalise(text, language), normalise(heard, language) or "-"))
        replies.append(Reply(text, heard, 1000 * (first or 0.0), audio.duration, score))
    return replies


def run(settings: Settings, languages: list[str], count: int) -> list[VoiceResult]:
    models = ModelStore(settings.models, settings.paths)
    whisper = WhisperModel(
        str(models.directory("whisper-base")), device="cpu", compute_type="int8", cpu_threads=2
    )
    uncached = {**settings.tts.model_dump(), "cache_size": 0, "cached_prompts": {}}
    results: list[VoiceResult] = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="bench-voices") as executor:
        tts = PiperTts(TtsSettings.model_validate(uncached), models, executor)
        for language in languages:
            voice = (
                f"custom-{language}"
                if language in settings.tts.custom
                else settings.tts.voices[language]
            )
            replies = asyncio.run(measure(tts, whisper, language, corpus(language, count)))
            result = VoiceResult(language, voice, replies)
            results.append(result)
            p50, p95 = np.percentile(result.first_audio_ms, [50, 95])
            print(
                f"{language} {voice}: first audio p50 {p50:.0f} ms, p95 {p95:.0f} ms; "
                f"WER {100 * result.corpus_wer:.1f}%"
            )
    return results


def report(results: list[VoiceResult], command: str, load: tuple[float, float]) -> str:
    lines = [
        "# Voices: first audio and intelligibility per language",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}"
        f" ({platform.processor() or platform.machine()}, 2 cores shared with other work),"
        " reproduce with:",
        "",
        f"    {command}",
        "",
        f"Load average (1 min) at start / end: {load[0]:.1f} / {load[1]:.1f} on 2 cores: other",
        "work on the machine inflates first audio; intelligibility does not depend on it.",
        "",
        "Each voice speaks the 30 support replies of `benchmarks/corpus/replies_<lang>.txt`",
        "through the TTS stage (clause cache off, voice loaded and primed first). First audio:",
        "`synthesize()` to its first 20 ms frame. WER: faster-whisper base (stock, beam 5), the",
        "language fixed, both sides lower-cased, accents/punctuation stripped, digits spelled in",
        f"the language; goal <= {100 * WER_GOAL:.0f}%.",
        "",
        "| language | voice | first audio p50 | p95 | WER | goal |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        p50, p95 = np.percentile(result.first_audio_ms, [50, 95])
        met = "met" if result.corpus_wer <= WER_GOAL else "missed"
        lines.append(
            f"| {result.language} | {result.voice} | {p50:.0f} ms | {p95:.0f} ms "
            f"| {100 * result.corpus_wer:.1f}% | {met} |"
        )
    lines += ["", "## The replies heard worst, per voice", ""]
    for result in results:
        worst = sorted(result.replies, key=lambda reply: reply.wer, reverse=True)[:3]
        lines.append(f"- **{result.language}** ({result.voice}):")
        lines += [
            f'  - {100 * reply.wer:.0f}%: "{reply.text}" heard as "{reply.heard}"'
            for reply in worst
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replies", type=int, default=30)
    parser.add_argument("--languages", nargs="+", default=list(SUPPORTED), choices=SUPPORTED)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "voices.md")
    args = parser.parse_args()
    settings = load_settings(args.config)
    load_at_start = os.getloadavg()[0]
    results = run(settings, args.languages, args.replies)
    load = (load_at_start, os.getloadavg()[0])
    command = "PYTHONPATH=. .venv/bin/python -m benchmarks.voices"
    if args.replies != 30:
        command += f" --replies {args.replies}"
    if args.languages != list(SUPPORTED):
        command += " --languages " + " ".join(args.languages)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(results, command, load), encoding="utf-8")
    raw = [{**asdict(r), "corpus_wer": r.corpus_wer} for r in results]
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=1, ensure_ascii=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
