"""Dialogue engine first-chunk time on the demo shop (the reply is whole before its first chunk).

    .venv/bin/python -m benchmarks.dialogue

Replays the scripted conversations of tests/dialogue (every intent) six times against a fresh
SQLite file with the demo shop, committing each reply's writes as a call would; the first
pass is reported apart (it loads the catalogue). The engine understands turns as a call does
(App.understander: rules and the intent classifier).

Then the same under load: while a thread decodes a few seconds of speech with the real ASR
(App.asr, Whisper) in a loop, as a concurrent call would, the scripts are replayed again and
the understanding step alone is timed over the scripted lines and benchmarks/intents/tune.tsv.
Results: benchmarks/results/dialogue.json, .md.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from benchmarks.intents import CORPUS, load_corpus
from tests.dialogue.test_engine import SCRIPTS
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import load_policies
from voice_agent.dialogue.state import UserTurn
from voice_agent.settings import PathsSettings, StoreSettings, load_settings
from voice_agent.stages.asr import AsrHint
from voice_agent.store.db import open_database
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository

RESULTS = Path(__file__).parent / "results"
PASSES = 6
LOADED_PASSES = 3
SPEECH = (
    "Hello, I ordered a pair of running shoes two weeks ago and they still have not arrived. "
    "Could you tell me where my parcel is?"
)


def _replay(engine: DialogueEngine, repository: Repository, now: datetime) -> list[float]:
    times = []
    for lines in SCRIPTS.values():
        conversation = repository.start_conversation("bench", None, now)
        state = engine.greeting(engine.initial_state(conversation)).state
        for line in lines:
            started = time.perf_counter()
            reply = engine.respond(UserTurn(line), state, now)
            times.append((time.perf_counter() - started) * 1000)
            repository.apply(reply.writes)
            state = reply.state
    return times


def _timed(call: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    times = []
    for text in texts:
        started = time.perf_counter()
        call(text)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _stats(times: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(times),
        "p50": round(statistics.median(times), 2),
        "p90": round(float(np.percentile(times, 90)), 2),
        "p95": round(float(np.percentile(times, 95)), 2),
        "p99": round(float(np.percentile(times, 99)), 2),
        "max": round(max(times), 2),
    }


class _Decoding:
    """Whisper decoding the same speech in a loop on its own thread, until stopped."""

    def __init__(self, app: App, audio: AudioFrame) -> None:
        self.app, self.audio = app, audio
        self.stop = threading.Event()
        self.decodes: list[float] = []
        self.thread = threading.Thread(target=self._run, name="whisper-load", daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            self.app.asr.transcribe_blocking(self.audio, AsrHint())
            self.decodes.append((time.perf_counter() - started) * 1000)

    def __enter__(self) -> _Decoding:
        self.thread.start()
        while not self.decodes:  # the first decode is under way and finished once
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def main() -> None:
    now = datetime.now(UTC)
    app = App(load_settings())
    app.asr.load()
    understand = app.understander
    understand("Where is my order?")
    speech = AudioFrame.concat(asyncio.run(_speak(app, SPEECH)))
    texts = [line for lines in SCRIPTS.values() for line in lines]
    texts += [example.text for example in load_corpus(CORPUS / "tune.tsv")]
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(
            StoreSettings(url=f"sqlite:///{folder}/bench.sqlite3"), PathsSettings()
        )
        import_document(database, demo_document(now), "demo")
        repository = Repository(database)
        engine = DialogueEngine(
            repository, load_policies(Path("config/policies.toml")), understand=understand
        )
        first_pass = _replay(engine, repository, now)
        quiet: list[float] = []
        for _ in range(PASSES - 1):
            quiet += _replay(engine, repository, now)
        quiet_understand = _timed(understand, texts)
        with _Decoding(app, speech) as decoding:
            loaded: list[float] = []
            for _ in range(LOADED_PASSES):
                loaded += _replay(engine, repository, now)
            loaded_understand = _timed(understand, texts)
        database.engine.dispose()
    app.close()
    report = {
        "benchmark": "dialogue",
        "command": "python -m benchmarks.dialogue",
        "date": now.isoformat(timespec="seconds"),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "turns": len(quiet),
        "first_chunk_ms": _stats(quiet),
        "first_pass_ms": {
            "p50": round(statistics.median(first_pass), 2),
            "max": round(max(first_pass), 2),
        },
        "understand_ms": _stats(quiet_understand),
        "with_whisper_decoding": {
            "speech_s": round(speech.duration, 2),
            "decodes": len(decoding.decodes),
            "decode_ms_p50": round(statistics.median(decoding.decodes), 1),
            "first_chunk_ms": _stats(loaded),
            "understand_ms": _stats(loaded_understand),
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dialogue.json").write_text(json.dumps(report, indent=2) + "\n")
    markdown = _markdown(report)
    (RESULTS / "dialogue.md").write_text(markdown)
    print(markdown)


async def _speak(app: App, text: str) -> list[AudioFrame]:
    await app.tts.warm_up()
    return [frame async for frame in app.tts.synthesize(text)]


def _markdown(report: dict[str, object]) -> str:
    stats = report["first_chunk_ms"]
    understand = report["understand_ms"]
    loaded = report["with_whisper_decoding"]
    assert isinstance(stats, dict) and isinstance(understand, dict) and isinstance(loaded, dict)
    chunk, heard = loaded["first_chunk_ms"], loaded["understand_ms"]
    return (
        "# Dialogue engine: first chunk\n\n"
        f"`{report['command']}` on {report['date']} (load average "
        f"{report['load_average_1min']} at the end): {report['turns']} scripted turns "
        "on the demo shop (SQLite), writes committed; turns understood by rules and the "
        "intent classifier (App.understander).\n\n"
        "| | p50 | p90 | p95 | p99 | max | n |\n|---|---|---|---|---|---|---|\n"
        + _row("first chunk, quiet", stats)
        + _row("understanding, quiet", understand)
        + _row("first chunk, Whisper decoding", chunk)
        + _row("understanding, Whisper decoding", heard)
        + f"\nUnder load: a thread decodes {loaded['speech_s']} s of Piper speech with the "
        f"real ASR in a loop ({loaded['decodes']} decodes, median {loaded['decode_ms_p50']} ms) "
        "while the scripts are replayed and the understanding step is timed over the scripted "
        "lines and benchmarks/intents/tune.tsv.\n"
    )


def _row(name: str, stats: dict[str, float]) -> str:
    cells = " | ".join(f"{stats[key]} ms" for key in ("p50", "p90", "p95", "p99", "max"))
    return f"| {name} | {cells} | {stats['n']} |\n"


if __name__ == "__main__":
    main()
