"""Dialogue engine first-chunk time on the demo shop (the reply is whole before its first chunk).

    .venv/bin/python -m benchmarks.dialogue

Replays the scripted conversations of tests/dialogue (every intent) six times against a fresh
SQLite file with the demo shop, committing each reply's writes as a call would; the first
pass is reported apart (it loads the catalogue). Results: benchmarks/results/dialogue.json, .md.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tests.dialogue.test_engine import SCRIPTS
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import load_policies
from voice_agent.dialogue.state import UserTurn
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import open_database
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository

RESULTS = Path(__file__).parent / "results"
PASSES = 6


def main() -> None:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(
            StoreSettings(url=f"sqlite:///{folder}/bench.sqlite3"), PathsSettings()
        )
        import_document(database, demo_document(now), "demo")
        repository = Repository(database)
        engine = DialogueEngine(repository, load_policies(Path("config/policies.toml")))
        first_pass: list[float] = []
        timed: list[float] = []
        for run in range(PASSES):
            for lines in SCRIPTS.values():
                conversation = repository.start_conversation("bench", None, now)
                state = engine.greeting(engine.initial_state(conversation)).state
                for line in lines:
                    started = time.perf_counter()
                    reply = engine.respond(UserTurn(line), state, now)
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    (first_pass if run == 0 else timed).append(elapsed_ms)
                    repository.apply(reply.writes)
                    state = reply.state
        database.engine.dispose()
    report = {
        "benchmark": "dialogue",
        "command": "python -m benchmarks.dialogue",
        "date": now.isoformat(timespec="seconds"),
        "turns": len(timed),
        "first_chunk_ms": {
            "p50": round(statistics.median(timed), 2),
            "p90": round(float(np.percentile(timed, 90)), 2),
            "p99": round(float(np.percentile(timed, 99)), 2),
            "max": round(max(timed), 2),
        },
        "first_pass_ms": {
            "p50": round(statistics.median(first_pass), 2),
            "max": round(max(first_pass), 2),
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dialogue.json").write_text(json.dumps(report, indent=2) + "\n")
    stats = report["first_chunk_ms"]
    assert isinstance(stats, dict)
    markdown = (
        "# Dialogue engine: first chunk\n\n"
        f"`{report['command']}` on {report['date']}: {report['turns']} scripted turns "
        "on the demo shop (SQLite), writes committed.\n\n"
        "| p50 | p90 | p99 | max |\n|---|---|---|---|\n"
        f"| {stats['p50']} ms | {stats['p90']} ms | {stats['p99']} ms | {stats['max']} ms |\n"
    )
    (RESULTS / "dialogue.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
