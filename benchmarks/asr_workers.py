"""Whisper threads and workers for one and two concurrent calls: the final pass's time.

    python -m benchmarks.asr_workers [--clips N]

Issue 13 asks for `cpu_threads` and `num_workers` chosen by measurement. Each clip is a
line of the streaming corpus (benchmarks/scenarios-streaming, first voice, 16 kHz); the pass
timed is a final pass's: the last 2.1 s of the clip (the median final-pass audio measured by
benchmarks/asr_streaming.py), with word times. "2 calls": two such passes at once, on two
threads, over one shared model, as two calls' finals arrive together.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.asr_streaming import CORPUS, corpus_lines, render_line, renderer
from voice_agent.audio import AudioFrame
from voice_agent.models import ModelStore
from voice_agent.settings import load_settings
from voice_agent.stages.asr import AsrHint
from voice_agent.stages.asr.whisper import WhisperAsr

RESULTS = Path(__file__).parent / "results"
CONFIGS = ((2, 1), (1, 2), (2, 2))
"""(cpu_threads, num_workers)."""
FINAL_S = 2.1


def _tails(count: int) -> list[AudioFrame]:
    settings = load_settings()
    render = renderer(settings)
    tails = []
    for line in corpus_lines(CORPUS)[:count]:
        audio = render_line(render, line, 0, "en-us", telephone=False).audio
        tails.append(audio.slice(max(0.0, audio.duration - FINAL_S), None))
    return tails


def _timed(asr: WhisperAsr, audio: AudioFrame) -> float:
    started = time.perf_counter()
    asr.transcribe_words_blocking(audio, AsrHint())
    return (time.perf_counter() - started) * 1000


def measure(threads: int, workers: int, tails: list[AudioFrame]) -> dict[str, float]:
    settings = load_settings()
    asr_settings = settings.asr.model_copy(update={"cpu_threads": threads, "num_workers": workers})
    with ThreadPoolExecutor(max_workers=2) as pool:
        asr = WhisperAsr(asr_settings, ModelStore(settings.models, settings.paths), pool)
        asr.load()
        _timed(asr, tails[0])  # warm-up
        alone = [_timed(asr, tail) for tail in tails]
        pairs = [pool.submit(_timed, asr, tail) for tail in tails for _ in range(2)]
        together = [future.result() for future in pairs]
    return {
        "alone_p50": round(statistics.median(alone), 1),
        "alone_max": round(max(alone), 1),
        "two_at_once_p50": round(statistics.median(together), 1),
        "two_at_once_max": round(max(together), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=20)
    args = parser.parse_args()
    tails = _tails(args.clips)
    rows = {f"threads={t} workers={w}": measure(t, w, tails) for t, w in CONFIGS}
    (RESULTS / "asr_workers.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [
        "# Whisper threads and workers: a final pass (2.1 s, word times), ms",
        "",
        f"`python -m benchmarks.asr_workers --clips {args.clips}` on 2026-12-02, 2 cores.",
        "",
        "| config | 1 call p50 | 1 call max | 2 calls at once p50 | 2 calls max |",
        "|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        values = " | ".join(str(row[k]) for k in ("alone_p50", "alone_max", "two_at_once_p50"))
        lines.append(f"| {name} | {values} | {row['two_at_once_max']} |")
    (RESULTS / "asr_workers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
