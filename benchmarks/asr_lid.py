"""Which language a caller's first utterance is in: whisper-base's open-language pass, with
and without the second look (``AsrSettings.lid_recheck``).

    python -m benchmarks.asr_lid [--set heldout|tuning] [--limit N] [--rates 16k,8k]

A first utterance (2 s or more) is transcribed as a call without a language hint hears it:
``WhisperAsr.transcribe_blocking(audio, AsrHint())`` on whisper-base, detection among the
five offered languages. Each clip is heard twice, by a recognizer with the second look off
(before: Whisper's language token alone picks the language) and on (after: a doubtful
guess decodes the runner-up too and the readings are compared, whisper.py's docstring).

Sets:
- ``heldout`` (the report): benchmarks/corpus/heldout/lid_<lang>.txt, caller lines written
  before the second look was tuned and never used to tune it, said by espeak-ng voice
  variants the tuning never heard (`HELDOUT_VOICES`);
- ``tuning``: the lines and voices of benchmarks/asr_languages.py (callers_<lang>.txt), on
  which the thresholds and weights were chosen.

Each clip is heard at 16 kHz and as 8 kHz telephone audio (asr_languages.as_heard). Reported
per language and rate: accuracy, what a wrong guess took it for, and the whole pass's time
(``total_ms``) p50/p95; and how far ``language_probability`` can be trusted (the dialogue
adopts a first guess at 0.5 and switches a settled call at 0.8).

Results: a section per set of benchmarks/results/asr-languages.md (between its markers,
replaced on each run) and benchmarks/results/asr-lid-<set>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.asr_languages import (
    LID_MIN_S,
    RATES,
    VOICES,
    as_heard,
    corpus_lines,
    percentile,
)
from voice_agent.audio import AudioFrame
from voice_agent.bench.voices import EspeakVoice
from voice_agent.languages import SUPPORTED
from voice_agent.models import ModelStore
from voice_agent.settings import AsrSettings, ModelsSettings, PathsSettings
from voice_agent.stages.asr import AsrHint
from voice_agent.stages.asr.whisper import WhisperAsr

HERE = Path(__file__).parent
HELDOUT = HERE / "corpus" / "heldout"
RESULTS = HERE / "results"
REPORT = RESULTS / "asr-languages.md"

HELDOUT_VOICES: dict[str, tuple[str, ...]] = {
    "en": ("en-gb+m3", "en-us+f2"),
    "de": ("de+m3", "de+f2"),
    "es": ("es-419+m2", "es+f4"),
    "fr": ("fr+f2", "fr+m3"),
    "pt": ("pt-br+f4", "pt-br+m2"),
}
"""Voice variants none of the tuning clips were said by."""
PASSES = {"before": False, "after": True}
SURE_AT = (0.5, 0.8)


@dataclass(frozen=True, slots=True)
class FirstUtterance:
    language: str
    line: int
    voice: str
    rate: str
    audio: AudioFrame


@dataclass(frozen=True, slots=True)
class Guess:
    set: str
    recheck: str
    language: str
    line: int
    voice: str
    rate: str
    guess: str
    probability: float
    ms: float
    text: str


def lines_of(set_name: str, language: str) -> list[str]:
    if set_name == "tuning":
        return corpus_lines(language)
    text = (HELDOUT / f"lid_{language}.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def voices_of(set_name: str, language: str) -> tuple[str, ...]:
    return VOICES[language] if set_name == "tuning" else HELDOUT_VOICES[language]


def first_utterances(
    set_name: str, limit: int | None, rates: Sequence[str]
) -> Iterator[FirstUtterance]:
    """Each language's lines (the first `limit`) in each voice at each rate, 2 s or more."""
    for language in SUPPORTED:
        for index, said in enumerate(lines_of(set_name, language)[:limit]):
            for voice in voices_of(set_name, language):
                spoken = EspeakVoice(voice).speak(said)
                for rate in rates:
                    audio = as_heard(spoken, rate)
                    if audio.duration >= LID_MIN_S:
                        yield FirstUtterance(language, index, voice, rate, audio)


def heard(asr: WhisperAsr, set_name: str, recheck: str, clip: FirstUtterance) -> Guess:
    transcript = asr.transcribe_blocking(clip.audio, AsrHint())
    return Guess(
        set_name,
        recheck,
        clip.language,
        clip.line,
        clip.voice,
        clip.rate,
        transcript.language,
        transcript.language_probability or 0.0,
        transcript.timings["total_ms"],
        transcript.text,
    )


def run(set_name: str, limit: int | None, rates: Sequence[str]) -> list[Guess]:
    models = ModelStore(ModelsSettings(), PathsSettings())
    guesses: list[Guess] = []
    with ThreadPoolExecutor(max_workers=1) as executor:
        recognizers = {
            name: WhisperAsr(
                AsrSettings(model="whisper-base", detect_languages=SUPPORTED, lid_recheck=on),
                models,
                executor,
            )
            for name, on in PASSES.items()
        }
        for asr in recognizers.values():
            asr.load()
        for clip in first_utterances(set_name, limit, rates):
            for name, asr in recognizers.items():  # one after the other: the same machine load
                guesses.append(heard(asr, set_name, name, clip))
            before, after = guesses[-2:]
            print(
                f"{clip.language} {clip.rate} {clip.voice:>10} #{clip.line:<2} "
                f"{before.guess} {before.ms:5.0f} ms -> {after.guess} {after.probability:.2f} "
                f"{after.ms:5.0f} ms {after.text}",
                file=sys.stderr,
                flush=True,
            )
    return guesses


def accuracy_rows(guesses: Sequence[Guess]) -> list[dict[str, Any]]:
    rates = [rate for rate in RATES if any(g.rate == rate for g in guesses)]
    keys = [(lang, rate) for lang in SUPPORTED for rate in rates]
    keys += [("all", rate) for rate in rates]
    rows: list[dict[str, Any]] = []
    for language, rate in keys:
        row: dict[str, Any] = {"language": language, "rate": rate}
        for recheck in PASSES:
            group = [
                g
                for g in guesses
                if g.recheck == recheck and g.rate == rate and language in ("all", g.language)
            ]
            if not group:
                continue
            mistaken: dict[str, int] = {}
            for g in group:
                if g.guess != g.language:
                    mistaken[g.guess] = mistaken.get(g.guess, 0) + 1
            ms = [g.ms for g in group]
            row["clips"] = len(group)
            row[recheck] = {
                "accuracy": sum(g.guess == g.language for g in group) / len(group),
                "taken_for": mistaken,
                "p50_ms": percentile(ms, 50),
                "p95_ms": percentile(ms, 95),
            }
        if "clips" in row:
            rows.append(row)
    return rows


def sure_rows(guesses: Sequence[Guess]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for recheck in PASSES:
        group = [g for g in guesses if g.recheck == recheck]
        for at in SURE_AT:
            sure = [g for g in group if g.probability >= at]
            right = sum(g.guess == g.language for g in sure)
            rows.append(
                {
                    "recheck": recheck,
                    "at": at,
                    "share": len(sure) / len(group) if group else float("nan"),
                    "accuracy": right / len(sure) if sure else float("nan"),
                }
            )
    return rows


def markdown(results: dict[str, Any]) -> str:
    set_name = results["set"]
    corpus = (
        "benchmarks/corpus/heldout/lid_<lang>.txt (written before tuning, never tuned on), "
        "voices " + "; ".join(f"{k}: {', '.join(v)}" for k, v in HELDOUT_VOICES.items())
        if set_name == "heldout"
        else "benchmarks/corpus/callers_<lang>.txt and asr_languages.VOICES (the tuning set)"
    )
    lines = [
        begin(set_name),
        f"## First utterances: language identification before and after a second look ({set_name})",
        "",
        f"Command: `{results['command']}`  ",
        f"Run: {results['when']} on {results['machine']}; {results['elapsed_s']:.0f} s.",
        "",
        f"Clips: {corpus}; {results['lines_per_language']} lines per language, at "
        f"{' and '.join(results['rates'])}, those of {LID_MIN_S:.0f} s or more. Each is "
        "transcribed with no language hint (`transcribe_blocking(audio, AsrHint())`, "
        "whisper-base, detection among the five) by a recognizer with "
        "`AsrSettings.lid_recheck` off (before: Whisper's language token alone) and on "
        "(after). Time: the whole pass (`total_ms`), both on the same clips one after the "
        "other.",
        "",
        "| language | rate | clips | before | taken for | after | taken for "
        "| before p50/p95 ms | after p50/p95 ms |",
        "|---|---|---:|---:|---|---:|---|---:|---:|",
    ]
    for row in results["accuracy"]:
        before, after = row["before"], row["after"]
        lines.append(
            f"| {row['language']} | {row['rate']} | {row['clips']} | {before['accuracy']:.1%} "
            f"| {_taken(before)} | {after['accuracy']:.1%} | {_taken(after)} "
            f"| {before['p50_ms']:.0f} / {before['p95_ms']:.0f} "
            f"| {after['p50_ms']:.0f} / {after['p95_ms']:.0f} |"
        )
    lines += [
        "",
        "`language_probability` of the guesses (the dialogue adopts a first guess at 0.5, "
        "switches a settled call at 0.8):",
        "",
        "| second look | probability at least | share of guesses | accuracy of those |",
        "|---|---:|---:|---:|",
    ]
    for row in results["sure"]:
        lines.append(
            f"| {row['recheck']} | {row['at']:.1f} | {row['share']:.1%} | {row['accuracy']:.1%} |"
        )
    lines += ["", end(set_name)]
    return "\n".join(lines)


def _taken(cell: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(cell["taken_for"].items())) or "-"


def begin(set_name: str) -> str:
    return f"<!-- asr_lid {set_name}: begin -->"


def end(set_name: str) -> str:
    return f"<!-- asr_lid {set_name}: end -->"


def with_section(report: str, section: str, set_name: str) -> str:
    """`report` with the set's section replaced by `section` (appended when it has none)."""
    if begin(set_name) in report and end(set_name) in report:
        head, rest = report.split(begin(set_name), 1)
        return head + section + rest.split(end(set_name), 1)[1]
    return report.rstrip("\n") + "\n\n" + section + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("heldout", "tuning"), default="heldout")
    parser.add_argument("--limit", type=int, default=None, help="lines per language")
    parser.add_argument("--rates", default="16k,8k")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rates = [rate for rate in args.rates.split(",") if rate]
    started = time.perf_counter()
    guesses = run(args.set, args.limit, rates)
    command = f"python -m benchmarks.asr_lid --set {args.set}" + (
        f" --limit {args.limit}" if args.limit else ""
    )
    results = {
        "command": command,
        "set": args.set,
        "rates": rates,
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "elapsed_s": time.perf_counter() - started,
        "lines_per_language": min(
            len(lines_of(args.set, code)[: args.limit]) for code in SUPPORTED
        ),
        "guesses": [asdict(g) for g in guesses],
        "accuracy": accuracy_rows(guesses),
        "sure": sure_rows(guesses),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"asr-lid-{args.set}.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    section = markdown(results)
    report = args.out / REPORT.name
    existing = report.read_text(encoding="utf-8") if report.exists() else ""
    report.write_text(with_section(existing, section, args.set), encoding="utf-8")
    print(section)


if __name__ == "__main__":
    main()
