"""Speech recognition per language: WER, decode time and language identification.

    python -m benchmarks.asr_languages [--limit N] [--out DIR]

Issue 15 asks that every call be heard in the shopper's own language (en, de, es, fr, pt-BR)
and that the team know what it costs. The corpus is benchmarks/corpus/callers_<lang>.txt:
ordinary support-call lines (orders, deliveries, customs, returns, numbers said as words, an
e-mail address spelled), written for this benchmark and never used to tune anything. Each
line is spoken by two espeak-ng voices of its language (`VOICES`) and heard:

- at 16 kHz, as WebRTC delivers it;
- as 8 kHz telephone audio (band-limited, G.711 mu-law: voice_agent.audio.telephone), brought
  back to 16 kHz 20 ms at a time by the SIP path's own converter (rtp_udp.PhoneBand).

For each clip:
- ``WhisperAsr.transcribe_blocking`` on whisper-base with the language fixed (a call whose
  language is known): WER and the whole pass's time (``total_ms``: fast path, guards and any
  stock fallback);
- ``WhisperAsr.detect_language_blocking`` among the five languages, on clips of 2 s or more
  (a caller's first utterance): accuracy and time;
- English only: the same pass on whisper-tiny-en, to compare with base.

WER is corpus WER (jiwer) on normalised text: Unicode NFC, lower case, numbers as digits in
the line's language (text2num's alpha2digit: "forty seven", "siebenundvierzig" and "47" are
one word; runs of digits joined, so "4 7 1 2 9" is "47129"), "@" and a dot inside an address
read as the language's words for them ("arroba", "punto"), apostrophes and hyphens dropped,
other punctuation stripped.

espeak-ng is a formant synthesizer: robotic, and far from the voices Whisper was trained on.
Its numbers are a floor for real callers, not an estimate of them.

Results: benchmarks/results/asr-languages.md and asr-languages.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
import unicodedata
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
from text_to_num import alpha2digit

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.telephone import telephone_line
from voice_agent.bench.voices import EspeakVoice
from voice_agent.languages import SUPPORTED
from voice_agent.models import ModelStore
from voice_agent.settings import AsrSettings, ModelsSettings, PathsSettings
from voice_agent.stages.asr import AsrHint
from voice_agent.stages.asr.whisper import WhisperAsr
from voice_agent.transport.rtp_udp import PhoneBand

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
RESULTS = HERE / "results"
VOICES: dict[str, tuple[str, ...]] = {
    "en": ("en-us", "en-gb+f3"),
    "de": ("de", "de+f3"),
    "es": ("es", "es-419+f3"),
    "fr": ("fr", "fr-be+f3"),
    "pt": ("pt-br", "pt-br+m4"),
}
"""Two espeak-ng voices per language: its own accent and a variant (another voice, region)."""
RATES = ("16k", "8k")
FRAME_S = 0.02
LID_MIN_S = 2.0
"""Language identification is measured on clips at least this long (a first utterance)."""
LID_GOAL = 0.95
SURE_AT = (0.5, 0.8, 0.9)
"""Probabilities at which a guess's accuracy is reported: how far a sure guess can be trusted."""
ADDRESS_WORDS = {
    "en": ("at", "dot"),
    "de": ("at", "punkt"),
    "es": ("arroba", "punto"),
    "fr": ("arobase", "point"),
    "pt": ("arroba", "ponto"),
}
"""How a caller says "@" and "." in an e-mail address, per language."""
_ADDRESS_DOT = re.compile(r"(?<=\w)\.(?=\w)")
_JOINERS = re.compile(r"['’\-]")
_PUNCTUATION = re.compile(r"[^\w\s]")
_DIGIT_GAP = re.compile(r"(?<=\d) (?=\d)")


# --- the corpus --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clip:
    language: str
    line: int
    voice: str
    rate: str
    said: str
    audio: AudioFrame
    """16 kHz: what the pipeline hears."""


def corpus_lines(language: str) -> list[str]:
    """The caller lines of `language`, comments and blank lines left out."""
    text = (CORPUS / f"callers_{language}.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def as_heard(audio: AudioFrame, rate: str) -> AudioFrame:
    """`audio` (16 kHz) as the pipeline hears it at `rate`: as it is, or after a telephone
    line and the SIP path's conversion back to 16 kHz, packet by packet."""
    if rate == "16k":
        return audio
    band = PhoneBand()
    packets = telephone_line(audio).chunks(FRAME_S)
    return AudioFrame.concat([AudioFrame(band.up(p.samples), PIPELINE_RATE) for p in packets])


def clips(languages: Sequence[str], limit: int | None) -> Iterator[Clip]:
    """Each language's lines (the first `limit`), in each of its voices, at each rate."""
    for language in languages:
        for index, said in enumerate(corpus_lines(language)[:limit]):
            for voice in VOICES[language]:
                spoken = EspeakVoice(voice).speak(said)
                for rate in RATES:
                    yield Clip(language, index, voice, rate, said, as_heard(spoken, rate))


# --- scoring -----------------------------------------------------------------------------------


def normalised(text: str, language: str) -> str:
    """`text` as it is scored (see the module's docstring)."""
    text = unicodedata.normalize("NFC", text).lower()
    at, dot = ADDRESS_WORDS[language]
    text = _ADDRESS_DOT.sub(f" {dot} ", text.replace("@", f" {at} "))
    text = alpha2digit(text, language, threshold=0)
    text = _PUNCTUATION.sub(" ", _JOINERS.sub("", text))
    return _DIGIT_GAP.sub("", " ".join(text.split()))


def word_error_rate(said: Sequence[str], heard: Sequence[str], language: str) -> float:
    """Corpus WER (0..1): all the errors over all the words said, both texts normalised."""
    reference = [normalised(text, language) for text in said]
    hypothesis = [normalised(text, language) for text in heard]
    return float(jiwer.wer(reference, hypothesis))


# --- the passes --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Heard:
    language: str
    line: int
    voice: str
    rate: str
    model: str
    said: str
    text: str
    path: str
    ms: float
    audio_s: float


@dataclass(frozen=True, slots=True)
class Identified:
    language: str
    line: int
    voice: str
    rate: str
    guess: str
    probability: float
    ms: float
    audio_s: float


def transcribed(asr: WhisperAsr, model: str, clip: Clip) -> Heard:
    transcript = asr.transcribe_blocking(clip.audio, AsrHint(language=clip.language))
    return Heard(
        clip.language,
        clip.line,
        clip.voice,
        clip.rate,
        model,
        clip.said,
        transcript.text,
        transcript.path,
        transcript.timings["total_ms"],
        clip.audio.duration,
    )


def identified(asr: WhisperAsr, clip: Clip) -> Identified:
    guess = asr.detect_language_blocking(clip.audio, SUPPORTED)
    return Identified(
        clip.language,
        clip.line,
        clip.voice,
        clip.rate,
        guess.language,
        guess.probability,
        guess.ms,
        clip.audio.duration,
    )


def run(languages: Sequence[str], limit: int | None) -> tuple[list[Heard], list[Identified]]:
    models = ModelStore(ModelsSettings(), PathsSettings())
    with ThreadPoolExecutor(max_workers=1) as executor:
        base = WhisperAsr(AsrSettings(model="whisper-base"), models, executor)
        tiny = WhisperAsr(AsrSettings(model="whisper-tiny-en"), models, executor)
        base.load()
        tiny.load()
        heard: list[Heard] = []
        found: list[Identified] = []
        for clip in clips(languages, limit):
            heard.append(transcribed(base, "whisper-base", clip))
            if clip.language == "en":
                heard.append(transcribed(tiny, "whisper-tiny-en", clip))
            if clip.audio.duration >= LID_MIN_S:
                found.append(identified(base, clip))
            _progress(heard[-1])
    return heard, found


def _progress(heard: Heard) -> None:
    print(
        f"{heard.language} {heard.rate} {heard.voice:>10} #{heard.line:<2} {heard.ms:6.0f} ms "
        f"{heard.text}",
        file=sys.stderr,
        flush=True,
    )


# --- the report --------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def wer_rows(heard: Sequence[Heard]) -> list[dict[str, Any]]:
    """Per model x language x rate: clips, WER, decode p50/p95, stock fallbacks."""
    rows: list[dict[str, Any]] = []
    keys = sorted({(h.model, h.language, h.rate) for h in heard}, key=_row_order)
    for model, language, rate in keys:
        group = [h for h in heard if (h.model, h.language, h.rate) == (model, language, rate)]
        ms = [h.ms for h in group]
        rows.append(
            {
                "model": model,
                "language": language,
                "rate": rate,
                "clips": len(group),
                "wer": word_error_rate([h.said for h in group], [h.text for h in group], language),
                "p50_ms": percentile(ms, 50),
                "p95_ms": percentile(ms, 95),
                "stock": sum(h.path != "fast" for h in group),
                "audio_p50_s": percentile([h.audio_s for h in group], 50),
            }
        )
    return rows


def _row_order(key: tuple[str, str, str]) -> tuple[int, int, int]:
    model, language, rate = key
    return (int(model != "whisper-base"), SUPPORTED.index(language), RATES.index(rate))


def lid_rows(found: Sequence[Identified]) -> list[dict[str, Any]]:
    """Per language x rate, and all together: accuracy, what it was taken for, time."""
    rows: list[dict[str, Any]] = []
    groups = [
        ((lang, rate), [f for f in found if (f.language, f.rate) == (lang, rate)])
        for lang in SUPPORTED
        for rate in RATES
    ]
    groups += [(("all", rate), [f for f in found if f.rate == rate]) for rate in RATES]
    for (language, rate), group in groups:
        if not group:
            continue
        mistaken: dict[str, int] = {}
        for f in group:
            if f.guess != f.language:
                mistaken[f.guess] = mistaken.get(f.guess, 0) + 1
        ms = [f.ms for f in group]
        rows.append(
            {
                "language": language,
                "rate": rate,
                "clips": len(group),
                "accuracy": sum(f.guess == f.language for f in group) / len(group),
                "taken_for": mistaken,
                "p50_ms": percentile(ms, 50),
                "p95_ms": percentile(ms, 95),
            }
        )
    return rows


def voice_rows(heard: Sequence[Heard], found: Sequence[Identified]) -> list[dict[str, Any]]:
    """Per language x voice x rate on whisper-base: WER and identification accuracy."""
    rows: list[dict[str, Any]] = []
    for language in SUPPORTED:
        for voice in VOICES[language]:
            for rate in RATES:
                key = (language, voice, rate)
                said = [h for h in heard if h.model == "whisper-base"]
                group = [h for h in said if (h.language, h.voice, h.rate) == key]
                guesses = [f for f in found if (f.language, f.voice, f.rate) == key]
                if not group:
                    continue
                texts = ([h.said for h in group], [h.text for h in group])
                right = sum(f.guess == f.language for f in guesses)
                rows.append(
                    {
                        "language": language,
                        "voice": voice,
                        "rate": rate,
                        "wer": word_error_rate(*texts, language),
                        "lid_accuracy": right / len(guesses) if guesses else float("nan"),
                    }
                )
    return rows


def sure_rows(found: Sequence[Identified]) -> list[dict[str, Any]]:
    """For each probability in SURE_AT: the share of guesses at least that sure, and how many
    of those were right."""
    rows: list[dict[str, Any]] = []
    for at in SURE_AT:
        sure = [f for f in found if f.probability >= at]
        right = sum(f.guess == f.language for f in sure)
        rows.append(
            {
                "at": at,
                "share": len(sure) / len(found) if found else float("nan"),
                "accuracy": right / len(sure) if sure else float("nan"),
            }
        )
    return rows


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Speech recognition per language (issue 15)",
        "",
        f"Command: `{results['command']}`  ",
        f"Run: {results['when']} on {results['machine']}; {results['elapsed_s']:.0f} s.",
        "",
        "Corpus: benchmarks/corpus/callers_<lang>.txt, "
        f"{results['lines_per_language']} lines per language, each said by two espeak-ng "
        "voices (" + "; ".join(f"{k}: {', '.join(v)}" for k, v in VOICES.items()) + "), "
        "at 16 kHz and as 8 kHz G.711 mu-law telephone audio brought back to 16 kHz by the SIP "
        "path's converter. Language fixed (hint), default AsrSettings (fast path, beam 2, "
        "1 thread per decode), one decode at a time.",
        "",
        "**espeak-ng is robotic**: a formant synthesizer, far from real callers' voices. These "
        "numbers are a floor for recognition of real speech, not an estimate of it; they "
        "compare languages, rates and models with each other.",
        "",
        "WER: corpus WER after normalising (lower case, punctuation stripped, numbers as digits "
        'in the line\'s language by text2num so "47" == "forty seven" == '
        '"siebenundvierzig", digit runs joined, "@" and an address\'s dots as the language\'s '
        "words). Time: the whole pass (`total_ms`: fast path, guards, any stock fallback).",
        "",
        "## WER and decode time, per language and rate",
        "",
        "| model | language | rate | clips | WER | p50 ms | p95 ms | stock fallbacks |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in results["wer"]:
        lines.append(
            f"| {row['model']} | {row['language']} | {row['rate']} | {row['clips']} | "
            f"{100 * row['wer']:.1f}% | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | "
            f"{row['stock']} |"
        )
    lines += [
        "",
        f"## Language identification among {', '.join(SUPPORTED)} (clips >= {LID_MIN_S:.0f} s)",
        "",
        "`WhisperAsr.detect_language` on whisper-base: the short window's encoder output, "
        f"Whisper's language probabilities ranked among the five. Goal: >= {LID_GOAL:.0%}.",
        "",
        "| language | rate | clips | accuracy | taken for | p50 ms | p95 ms |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    for row in results["lid"]:
        taken = ", ".join(f"{k} {v}" for k, v in sorted(row["taken_for"].items())) or "-"
        lines.append(
            f"| {row['language']} | {row['rate']} | {row['clips']} | {row['accuracy']:.1%} | "
            f"{taken} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} |"
        )
    lines += [
        "",
        "How far a guess can be trusted by its probability (its share among the five):",
        "",
        "| probability at least | share of guesses | accuracy of those |",
        "|---:|---:|---:|",
    ]
    for row in results["sure"]:
        lines.append(f"| {row['at']:.1f} | {row['share']:.1%} | {row['accuracy']:.1%} |")
    lines += [
        "",
        "## Per voice (whisper-base)",
        "",
        "| language | voice | rate | WER | identified |",
        "|---|---|---|---:|---:|",
    ]
    for row in results["voices"]:
        lines.append(
            f"| {row['language']} | {row['voice']} | {row['rate']} | {100 * row['wer']:.1f}% | "
            f"{row['lid_accuracy']:.1%} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="lines per language")
    parser.add_argument("--languages", default=",".join(SUPPORTED))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--report", action="store_true", help="rebuild the tables from OUT's JSON, no decoding"
    )
    args = parser.parse_args(argv)
    if args.report:
        rebuilt = report(json.loads((args.out / "asr-languages.json").read_text("utf-8")))
        write(rebuilt, args.out)
        return
    languages = [code for code in args.languages.split(",") if code]
    started = time.perf_counter()
    heard, found = run(languages, args.limit)
    command = "python -m benchmarks.asr_languages" + (
        f" --limit {args.limit}" if args.limit else ""
    )
    results = {
        "command": command,
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "elapsed_s": time.perf_counter() - started,
        "lines_per_language": min(len(corpus_lines(code)[: args.limit]) for code in languages),
        "clips": [asdict(h) for h in heard],
        "identified": [asdict(f) for f in found],
    }
    write(report(results), args.out)


def report(results: dict[str, Any]) -> dict[str, Any]:
    """`results` (clips and guesses) with their tables computed."""
    heard = [Heard(**clip) for clip in results["clips"]]
    found = [Identified(**guess) for guess in results["identified"]]
    tables = {
        "wer": wer_rows(heard),
        "lid": lid_rows(found),
        "sure": sure_rows(found),
        "voices": voice_rows(heard, found),
    }
    return {**results, **tables}


def write(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "asr-languages.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "asr-languages.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
