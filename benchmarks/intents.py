"""Intent understanding over the corpus in benchmarks/intents/ (the real Understander).

    .venv/bin/python -m benchmarks.intents            # tuning and evaluation parts, results
    .venv/bin/python -m benchmarks.intents --tune     # tuning part only: a sweep, and misses

- tune.tsv (``label<TAB>utterance``): the part exemplars and thresholds were tuned on.
- eval.tsv (same format): held out; only its aggregate figures are ever looked at.
- multi.tsv (``labels<TAB>utterance``, labels comma-separated in the order said): turns with
  several requests; a turn counts when the understanding lists exactly its labels, in order.

Reported: accuracy per label, macro accuracy (the mean over request types), the confusion
matrix (rows true, columns predicted, ``none`` for no request), multi-part accuracy, and the
time one turn's understanding takes (p50 / p95). Results: benchmarks/results/intents.json, .md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from voice_agent.app import App
from voice_agent.dialogue.classifier import (
    NONE_LABEL,
    Embedder,
    IntentClassifier,
    Tuning,
    Vectors,
    load_exemplars,
)
from voice_agent.dialogue.nlu import Understanding
from voice_agent.dialogue.understanding import Understander
from voice_agent.settings import load_settings

HERE = Path(__file__).parent
CORPUS = HERE / "intents"
RESULTS = HERE / "results"


@dataclass(frozen=True, slots=True)
class Example:
    labels: tuple[str, ...]
    text: str


def load_corpus(path: Path) -> list[Example]:
    """A corpus file: a header line, then ``label(s)<TAB>utterance`` per line."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip() or line.startswith("#"):
            continue
        labels, text = line.split("\t", 1)
        examples.append(Example(tuple(label.strip() for label in labels.split(",")), text.strip()))
    return examples


def predicted(heard: Understanding) -> str:
    return NONE_LABEL if heard.intent is None else heard.intent.value


def single_scores(
    understand: Callable[[str], Understanding], examples: Sequence[Example]
) -> dict[str, Any]:
    """Accuracy per label, macro accuracy and the confusion matrix of single-request turns."""
    confusion: dict[str, Counter[str]] = {}
    for example in examples:
        (label,) = example.labels
        confusion.setdefault(label, Counter())[predicted(understand(example.text))] += 1
    per_label = {
        label: round(row[label] / sum(row.values()), 4) for label, row in sorted(confusion.items())
    }
    return {
        "utterances": len(examples),
        "macro_accuracy": round(float(np.mean(list(per_label.values()))), 4),
        "micro_accuracy": round(
            sum(row[label] for label, row in confusion.items()) / len(examples), 4
        ),
        "accuracy_per_label": per_label,
        "confusion": {label: dict(sorted(row.items())) for label, row in sorted(confusion.items())},
    }


def multi_scores(
    understand: Callable[[str], Understanding], examples: Sequence[Example]
) -> dict[str, Any]:
    exact = in_order = 0
    for example in examples:
        found = tuple(intent.value for intent in understand(example.text).intents)
        exact += found == example.labels
        left = iter(found)
        in_order += all(label in left for label in example.labels)
    return {
        "turns": len(examples),
        "exact": round(exact / len(examples), 4),
        "all_found_in_order": round(in_order / len(examples), 4),
    }


def latency(understand: Callable[[str], Understanding], texts: Sequence[str]) -> dict[str, Any]:
    times = []
    for text in texts:
        started = time.perf_counter()
        understand(text)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "n": len(times),
        "p50": round(float(np.percentile(times, 50)), 2),
        "p95": round(float(np.percentile(times, 95)), 2),
        "max": round(max(times), 2),
    }


class CachingEmbedder:
    """Each distinct text encoded once (a tuning sweep re-reads the same texts many times)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.cache: dict[str, Vectors] = {}

    def encode(self, texts: Sequence[str]) -> Vectors:
        missing = [text for text in dict.fromkeys(texts) if text not in self.cache]
        if missing:
            for text, vector in zip(missing, self.embedder.encode(missing), strict=True):
                self.cache[text] = vector
        return (
            np.stack([self.cache[text] for text in texts])
            if texts
            else np.zeros((0, 512), np.float32)
        )


def synthetic_multi(tune: Sequence[Example], count: int = 200) -> list[Example]:
    """Two-request turns made of tuning lines of different labels, joined as callers join
    them; multi.tsv only measures, so multi-part handling is tuned on these."""
    generator = np.random.default_rng(7)
    joins = (". ", ", and also ", " and ", "? Also, ", ", plus ", ". Oh and ")
    made: list[Example] = []
    while len(made) < count:
        first, second = (tune[int(i)] for i in generator.choice(len(tune), 2, replace=False))
        if first.labels == second.labels or {"goodbye", "repeat", "slower"} & {
            *first.labels,
            *second.labels,
        }:
            continue
        join = joins[int(generator.integers(len(joins)))]
        text = f"{first.text.rstrip('.?!')}{join}{second.text[:1].lower()}{second.text[1:]}"
        made.append(Example(first.labels + second.labels, text))
    return made


def _sweep(app: App, tune: Sequence[Example]) -> None:
    """The tuning part only: every combination of the grid, best first, then the misses."""
    embedder = CachingEmbedder(app.sentence_embedder)
    exemplars = load_exemplars(app.settings.dialogue.language)
    multi = synthetic_multi(tune)
    rows = []
    grid = itertools.product((1, 2, 3, 5), (0.3, 0.35, 0.4, 0.45, 0.5), (0.0, 0.02), (True, False))
    for top_k, min_score, margin, digits in grid:
        tuning = Tuning(top_k, min_score, margin, max(min_score, 0.45), digits)
        understand = Understander(IntentClassifier(embedder, exemplars, tuning))
        single = single_scores(understand, tune)
        parts = multi_scores(understand, multi)
        rows.append((single["macro_accuracy"], parts["exact"], tuning))
    rows.sort(key=lambda row: row[0] + 0.25 * row[1], reverse=True)
    print("macro  multi-exact  tuning")
    for macro, exact, tuning in rows[:15]:
        print(f"{macro:.4f} {exact:.4f}  {tuning}")
    best = rows[0][2]
    for part_min in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
        tuning = replace(best, part_min_score=part_min)
        understand = Understander(IntentClassifier(embedder, exemplars, tuning))
        single = single_scores(understand, tune)
        parts = multi_scores(understand, multi)
        print(f"part_min_score {part_min}: macro {single['macro_accuracy']}, multi {parts}")
    understand = Understander(IntentClassifier(embedder, exemplars, Tuning()))
    single = single_scores(understand, tune)
    print("\ndefault tuning:", Tuning(), single["macro_accuracy"], single["micro_accuracy"])
    for label, accuracy in single["accuracy_per_label"].items():
        print(f"  {label:18} {accuracy:.3f}  {single['confusion'][label]}")
    print("\nmisses on the tuning part:")
    for example in tune:
        heard = predicted(understand(example.text))
        if heard != example.labels[0]:
            print(f"  {example.labels[0]:18} -> {heard:18} {example.text}")
    print("\nsynthetic multi-part misses:")
    for example in multi[:60]:
        found = tuple(intent.value for intent in understand(example.text).intents)
        if found != example.labels:
            print(f"  {','.join(example.labels):35} -> {','.join(found):35} {example.text}")


def _markdown(report: dict[str, Any]) -> str:
    tune, held_out = report["tune"], report["eval"]
    labels = sorted(set(tune["accuracy_per_label"]) | set(held_out["accuracy_per_label"]))
    lines = [
        "# Intent understanding",
        "",
        f"`{report['command']}` on {report['date']} ({report['machine']}, load average "
        f"{report['load_average_1min']} at the start); "
        f"exemplars: {report['exemplars']}; tuning: `{report['tuning']}`.",
        "",
        "| part | utterances | macro accuracy | micro accuracy |",
        "|---|---|---|---|",
        f"| tuning (tune.tsv) | {tune['utterances']} | {tune['macro_accuracy']:.4f} | "
        f"{tune['micro_accuracy']:.4f} |",
        f"| **evaluation (eval.tsv)** | {held_out['utterances']} | "
        f"**{held_out['macro_accuracy']:.4f}** | {held_out['micro_accuracy']:.4f} |",
        "",
        f"Multi-part turns (multi.tsv, {report['multi']['turns']}): every label found, in the "
        f"order said, with nothing extra: {report['multi']['exact']:.4f}; every label found in "
        f"order (extras allowed): {report['multi']['all_found_in_order']:.4f}.",
        "",
        f"One turn's understanding (rules + classifier, one thread): p50 "
        f"{report['latency_ms']['p50']} ms, p95 {report['latency_ms']['p95']} ms "
        f"(n={report['latency_ms']['n']}).",
        "",
        "## Accuracy per label",
        "",
        "| label | tuning | evaluation |",
        "|---|---|---|",
    ]
    for label in labels:
        lines.append(
            f"| {label} | {tune['accuracy_per_label'].get(label, '-')} | "
            f"{held_out['accuracy_per_label'].get(label, '-')} |"
        )
    for name, part in (("evaluation", held_out), ("tuning", tune)):
        columns = sorted({p for row in part["confusion"].values() for p in row} | set(labels))
        columns = [c for c in columns if c != NONE_LABEL] + [NONE_LABEL]
        short = [c[:9] for c in columns]
        lines += [
            "",
            f"## Confusion matrix, {name} part (rows: true label, columns: predicted)",
            "",
            "| true \\ predicted | " + " | ".join(short) + " |",
            "|---" * (len(columns) + 1) + "|",
        ]
        for label in sorted(part["confusion"]):
            row = part["confusion"][label]
            cells = [str(row.get(column, "")) for column in columns]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="intent understanding benchmark")
    parser.add_argument("--tune", action="store_true", help="sweep on the tuning part only")
    args = parser.parse_args(argv)
    app = App(load_settings())
    tune = load_corpus(CORPUS / "tune.tsv")
    if args.tune:
        _sweep(app, tune)
        return
    multi = load_corpus(CORPUS / "multi.tsv")
    held_out = load_corpus(CORPUS / "eval.tsv")
    started = time.perf_counter()
    understand = app.understander
    build_s = time.perf_counter() - started
    understand("Where is my order?")
    classifier = app.intent_classifier
    report = {
        "benchmark": "intents",
        "command": "python -m benchmarks.intents",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, 2-core CPU",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "exemplars": ", ".join(f"{language}.toml" for language in classifier.languages),
        "tuning": str(classifier.tuning),
        "classifier_build_s": round(build_s, 2),
        "tune": single_scores(understand, tune),
        "eval": single_scores(understand, held_out),
        "multi": multi_scores(understand, multi),
        "latency_ms": latency(understand, [e.text for e in (*tune, *held_out, *multi)]),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "intents.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "intents.md").write_text(_markdown(report))
    print(_markdown(report))


if __name__ == "__main__":
    main()
