"""Per-stage latency and accuracy of the speech stages on this machine.

    .venv/bin/python -m benchmarks.stages [--quick]

- ASR: the guarded short-window fast path (WhisperAsr) against stock faster-whisper
  `transcribe()` with its defaults, by utterance length, on 16 kHz audio and on 8 kHz telephone
  audio (300-3400 Hz, mu-law), over benchmarks/corpus/support_phrases.txt spoken by three
  espeak-ng voices and Piper; WER as benchmarks/scoring.py scores it (Whisper's English
  normaliser, runs of single digits or letters joined, so spoken and written forms of a number
  score the same).
- TTS: time to first audio, uncached, over benchmarks/corpus/tts_clauses.txt (equal numbers
  of 2-, 3- and 4-word clauses).
- VAD: cost per 20 ms frame of webrtcvad and Silero.

Results: benchmarks/results/stages.json and stages.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.scoring import scored_form, word_error_rate
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.audio.telephone import through_telephone
from voice_agent.bench.voices import EspeakVoice, trim_silence
from voice_agent.settings import Settings, load_settings
from voice_agent.stages.asr import AsrHint
from voice_agent.stages.vad.factory import create_vad

HERE = Path(__file__).parent
RESULTS = HERE / "results"
ESPEAK = ("en-us", "en-gb+f3", "en-us+m7")
BUCKETS = ((0.0, 2.0, "<=2 s"), (2.0, 4.0, "2-4 s"), (4.0, 99.0, "4-9 s"))


@dataclass(frozen=True, slots=True)
class Clip:
    text: str
    voice: str
    line: str
    """"16k" or "8k-telephone"."""
    audio: AudioFrame


@dataclass(frozen=True, slots=True)
class Decoded:
    clip: Clip
    text: str
    ms: float


def _lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


async def _corpus(app: App, texts: Sequence[str]) -> list[Clip]:
    clips: list[Clip] = []
    for text in texts:
        voiced = [(voice, EspeakVoice(voice).speak(text)) for voice in ESPEAK]
        piper = [frame async for frame in app.tts.synthesize(text)]
        voiced.append(("piper-joe", trim_silence(AudioFrame.concat(piper))))
        for voice, audio in voiced:
            clips.append(Clip(text, voice, "16k", audio))
            clips.append(Clip(text, voice, "8k-telephone", through_telephone(audio)))
    return clips


def _fast(app: App) -> Callable[[AudioFrame], str]:
    return lambda audio: app.asr.transcribe_blocking(audio, AsrHint()).text


def _stock(app: App) -> Callable[[AudioFrame], str]:
    def decode(audio: AudioFrame) -> str:
        samples = resample(audio, 16_000).to_float()
        segments, _ = app.asr.model.transcribe(samples)  # stock defaults: 30 s window, beam 5
        return " ".join(segment.text.strip() for segment in segments)

    return decode


def _decode_all(clips: Sequence[Clip], decode: Callable[[AudioFrame], str]) -> list[Decoded]:
    results = []
    for clip in clips:
        started = time.perf_counter()
        text = decode(clip.audio)
        results.append(Decoded(clip, text, (time.perf_counter() - started) * 1000))
    return results


def _scored_form(text: str) -> str:
    return scored_form(text, join_digit_groups=False)


def _wer(results: Sequence[Decoded]) -> float:
    said = [r.clip.text for r in results]
    heard = [r.text for r in results]
    return round(100 * word_error_rate(said, heard, join_digit_groups=False), 1)


def _stats(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "n": len(values),
        "p50": round(float(np.percentile(values, 50)), 1),
        "p95": round(float(np.percentile(values, 95)), 1),
    }


def _asr_report(path: str, results: Sequence[Decoded]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for line in ("16k", "8k-telephone"):
        chosen = [r for r in results if r.clip.line == line]
        report[line] = {
            "wer_percent": _wer(chosen),
            "ms_by_length": {
                name: _stats([r.ms for r in chosen if low < r.clip.audio.duration <= high])
                for low, high, name in BUCKETS
            },
            "ms_up_to_4s": _stats([r.ms for r in chosen if r.clip.audio.duration <= 4.0]),
        }
    report["ms_up_to_4s_pooled"] = _stats([r.ms for r in results if r.clip.audio.duration <= 4])
    return report


async def _tts_first_audio(settings: Settings, clauses: Sequence[str]) -> dict[str, Any]:
    uncached = settings.model_copy(
        update={"tts": settings.tts.model_copy(update={"cache_size": 0, "cached_prompts": ()})}
    )
    app = App(uncached)
    await app.tts.warm_up()
    by_words: dict[int, list[float]] = {}
    for clause in clauses:
        started = time.perf_counter()
        stream = app.tts.synthesize(clause)
        await anext(stream)
        by_words.setdefault(len(clause.split()), []).append((time.perf_counter() - started) * 1000)
        await stream.aclose()
    app.close()
    pooled = [ms for values in by_words.values() for ms in values]
    return {
        "pooled": _stats(pooled),
        **{f"{words}_words": _stats(values) for words, values in sorted(by_words.items())},
    }


def _vad_cost(app: App, clips: Sequence[Clip]) -> dict[str, Any]:
    report = {}
    for engine in ("webrtc", "silero"):
        settings = app.settings.vad.model_copy(update={"engine": engine})
        vad = create_vad(settings, app.models, 16_000)
        frames = [f for clip in clips if clip.line == "16k" for f in clip.audio.chunks(0.02)]
        frames = [f for f in frames if len(f.samples) == 320]
        started = time.perf_counter()
        for frame in frames:
            vad.process(frame)
        elapsed = time.perf_counter() - started
        report[engine] = {"us_per_20ms_frame": round(elapsed / len(frames) * 1e6, 1)}
    return report


def _markdown(report: dict[str, Any]) -> str:
    asr = report["asr"]
    lines = [
        "# Speech stages on this machine",
        "",
        f"`{report['command']}` on {report['date']} ({report['machine']}); "
        f"{report['clips']} clips ({report['texts']} texts x {report['voices']} voices) per line.",
        "",
        "## ASR (tiny.en int8, 2 threads)",
        "",
        "| path | line | WER % | ms <=2 s p50 | ms 2-4 s p50 | ms 4-9 s p50 | ms <=4 s p50 / p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for path in ("fast", "stock"):
        for line in ("16k", "8k-telephone"):
            row = asr[path][line]
            buckets = row["ms_by_length"]
            cells = [buckets[name].get("p50", "-") for _, _, name in BUCKETS]
            up = row["ms_up_to_4s"]
            lines.append(
                f"| {path} | {line} | {row['wer_percent']} | {cells[0]} | {cells[1]} | "
                f"{cells[2]} | {up.get('p50', '-')} / {up.get('p95', '-')} |"
            )
    pooled = asr["fast"]["ms_up_to_4s_pooled"]
    lines += [
        "",
        f"Fast path pooled over all clips up to 4 s (both lines): median {pooled['p50']} ms, "
        f"p95 {pooled['p95']} ms (n={pooled['n']}).",
        "",
        "## TTS time to first audio (uncached, Piper joe medium, 2 threads)",
        "",
        "| clauses | p50 ms | p95 ms | n |",
        "|---|---|---|---|",
    ]
    for name, stats in report["tts_first_audio_ms"].items():
        lines.append(f"| {name} | {stats['p50']} | {stats['p95']} | {stats['n']} |")
    lines += ["", "## VAD cost", "", "| engine | us per 20 ms frame |", "|---|---|"]
    for engine, stats in report["vad"].items():
        lines.append(f"| {engine} | {stats['us_per_20ms_frame']} |")
    return "\n".join(lines) + "\n"


async def _run(quick: bool) -> dict[str, Any]:
    settings = load_settings()
    app = App(settings)
    await app.warm_up()
    texts = _lines(HERE / "corpus" / "support_phrases.txt")
    if quick:
        texts = texts[::5]
    clips = await _corpus(app, texts)
    fast = _decode_all(clips, _fast(app))
    stock = _decode_all(clips, _stock(app))
    clauses = _lines(HERE / "corpus" / "tts_clauses.txt")
    report = {
        "benchmark": "stages",
        "command": "python -m benchmarks.stages" + (" --quick" if quick else ""),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, 2-core CPU",
        "texts": len(texts),
        "voices": len(ESPEAK) + 1,
        "clips": len(clips) // 2,
        "asr": {"fast": _asr_report("fast", fast), "stock": _asr_report("stock", stock)},
        "tts_first_audio_ms": await _tts_first_audio(settings, clauses),
        "vad": _vad_cost(app, clips),
        "asr_misses": [
            {"voice": r.clip.voice, "line": r.clip.line, "said": r.clip.text, "heard": r.text}
            for r in fast
            if _scored_form(r.text) != _scored_form(r.clip.text)
        ],
    }
    app.close()
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="speech stage benchmark")
    parser.add_argument("--quick", action="store_true", help="a fifth of the phrases")
    args = parser.parse_args(argv)
    report = asyncio.run(_run(args.quick))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stages.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "stages.md").write_text(_markdown(report))
    print(_markdown(report))


if __name__ == "__main__":
    main()
