"""Intent understanding over the corpus in benchmarks/intents/ (the real Understander).

    .venv/bin/python -m benchmarks.intents            # tuning and evaluation parts, results
    .venv/bin/python -m benchmarks.intents --tune     # tuning part only: a sweep, and misses
    .venv/bin/python -m benchmarks.intents --languages  # every offered language's eval slice

- tune.tsv (``label<TAB>utterance``): the part exemplars and thresholds were tuned on.
- eval.tsv (same format): held out; only its aggregate figures are ever looked at.
- multi.tsv (``labels<TAB>utterance``, labels comma-separated in the order said): turns with
  several requests; a turn counts when the understanding lists exactly its labels, in order.

Reported: accuracy per label, macro accuracy (the mean over request types), the confusion
matrix (rows true, columns predicted, ``none`` for no request), multi-part accuracy, and the
time one turn's understanding takes (p50 / p95). Results: benchmarks/results/intents.json, .md.

With ``--languages``: each offered language's held-out slice (eval_<language>.tsv; English
eval.tsv), before (English exemplars only, read as English) and after (one classifier on every
offered language's exemplars, the turn's language given), and the classifier's build time.
Results: benchmarks/results/intents-languages.json, .md.
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
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from voice_agent.app import App
from voice_agent.dialogue.classifier import (
    NONE_LABEL,
    Embedder,
    Exemplars,
    IntentClassifier,
    Tuning,
    Vectors,
    classifiers_by_language,
    load_exemplars,
    load_languages,
)
from voice_agent.dialogue.nlu import Understanding
from voice_agent.dialogue.understanding import Understander
from voice_agent.settings import load_settings

HERE = Path(__file__).parent
T = TypeVar("T")
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


def synthetic_multi(tune: Sequence[Example], count: int = 200, seed: int = 7) -> list[Example]:
    """Two-request turns made of tuning lines of different labels, joined as callers join
    them; multi.tsv only measures, so multi-part handling is tuned on these."""
    generator = np.random.default_rng(seed)
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


def stratified_folds(examples: Sequence[Example], folds: int = 5, seed: int = 0) -> list[int]:
    """Each example's fold: every label's lines shuffled (fixed seed) and dealt round."""
    generator = np.random.default_rng(seed)
    fold = [0] * len(examples)
    for label in sorted({example.labels for example in examples}):
        members = [i for i, example in enumerate(examples) if example.labels == label]
        for place, index in enumerate(generator.permutation(members)):
            fold[int(index)] = place % folds
    return fold


@dataclass(frozen=True, slots=True)
class Fold:
    classifier: IntentClassifier
    held_out: list[Example]
    multi: list[Example]


def cross_validation_folds(
    embedder: Embedder,
    language: str,
    tune: Sequence[Example],
    tuning: Tuning,
    seeds: Sequence[int] = (0,),
    folds: int = 5,
) -> list[Fold]:
    """Per fold, a classifier built on the bundled exemplars and the other folds' lines (not
    the bundled training turns, which are the tuning part itself), the fold's lines, and
    two-request turns made of the fold's lines."""
    exemplars = load_exemplars(language, training=False)
    built = []
    for seed in seeds:
        assigned = stratified_folds(tune, folds, seed)
        for fold in range(folds):
            lines: dict[str, list[str]] = {}
            for example, where in zip(tune, assigned, strict=True):
                if where != fold:
                    lines.setdefault(example.labels[0], []).append(example.text)
            training = Exemplars(exemplars.languages, {k: tuple(v) for k, v in lines.items()})
            merged = Exemplars(exemplars.languages, exemplars.plus(training).phrases)
            held_out = [e for e, where in zip(tune, assigned, strict=True) if where == fold]
            built.append(
                Fold(
                    IntentClassifier(embedder, merged, tuning),
                    held_out,
                    synthetic_multi(held_out, 80, seed=fold),
                )
            )
    return built


def cross_validate(built: Sequence[Fold], tuning: Tuning | None = None) -> dict[str, Any]:
    """Macro accuracy over the held-out folds (pooled), and multi-part exactness (mean);
    ``tuning`` replaces the classifiers' thresholds (not the head, which is trained)."""
    pooled: list[tuple[Example, Understanding]] = []
    exact = []
    for fold in built:
        if tuning is not None:
            fold.classifier.tuning = tuning
        understand = Understander(fold.classifier)
        pooled += [(example, understand(example.text)) for example in fold.held_out]
        exact.append(multi_scores(understand, fold.multi)["exact"])
    heard = {example.text: understood for example, understood in pooled}
    single = single_scores(heard.__getitem__, [example for example, _ in pooled])
    return {
        "folds": len(built),
        "macro_accuracy": single["macro_accuracy"],
        "accuracy_per_label": single["accuracy_per_label"],
        "synthetic_multi_exact": round(float(np.mean(exact)), 4),
    }


def _sweep(app: App, tune: Sequence[Example]) -> None:
    """The tuning part only, by 5-fold cross-validation: the head's settings, then the
    thresholds, each scored by held-out macro accuracy + 0.25 x synthetic multi exactness."""
    embedder = CachingEmbedder(app.sentence_embedder)
    language = app.settings.languages.default
    default = Tuning()
    print("head settings (seeds 0, 1)")
    for l2, lexical_weight, scale in itertools.product((3e-4, 1e-3, 3e-3), (0.7, 1.0, 1.5), (8.0,)):
        tuning = replace(default, l2=l2, lexical_weight=lexical_weight, feature_scale=scale)
        scores = cross_validate(cross_validation_folds(embedder, language, tune, tuning, (0, 1)))
        print(
            f"  l2 {l2} lexical {lexical_weight} scale {scale}: macro "
            f"{scores['macro_accuracy']:.4f}, multi {scores['synthetic_multi_exact']:.4f}"
        )
    built = cross_validation_folds(embedder, language, tune, default, (0, 1))
    rows = []
    grid = itertools.product((0.1, 0.2, 0.3), (0.45, 0.6, 0.7, 0.8), (0.6, 0.7, 0.8, 0.9))
    for min_score, part_min_score, single_score in grid:
        tuning = replace(
            default,
            min_score=min_score,
            part_min_score=part_min_score,
            single_score=single_score,
        )
        scores = cross_validate(built, tuning)
        rows.append((scores["macro_accuracy"], scores["synthetic_multi_exact"], tuning))
    rows.sort(key=lambda row: row[0] + 0.25 * row[1], reverse=True)
    print("\nthresholds: macro  multi-exact  tuning")
    for macro, exact, tuning in rows[:15]:
        print(f"{macro:.4f} {exact:.4f}  {tuning}")
    scores = cross_validate(built, default)
    print("\ndefault tuning:", default, scores["macro_accuracy"], scores["synthetic_multi_exact"])
    for label, accuracy in scores["accuracy_per_label"].items():
        print(f"  {label:18} {accuracy:.3f}")


ABBREVIATIONS = {
    "address_change": "addr",
    "cancel": "canc",
    "charged_twice": "chg2",
    "complaint": "cmpl",
    "damaged_item": "dmg",
    "delivery_location": "dloc",
    "delivery_time": "dtime",
    "duties": "duty",
    "goodbye": "bye",
    "human": "hum",
    "invoice": "inv",
    "lost_parcel": "lost",
    "missing_item": "miss",
    "no_order_number": "nonum",
    "not_received": "notrc",
    "order_status": "stat",
    "out_of_scope": "oos",
    "product_question": "prod",
    "refund_status": "rfnd",
    "repeat": "rep",
    "return": "ret",
    "slower": "slow",
    "tracking": "trk",
    "wrong_item": "wrong",
    NONE_LABEL: "none",
}
"""Confusion-matrix column headers: short, and unique (a legend follows each matrix)."""


def _markdown(report: dict[str, Any]) -> str:
    tune, held_out, cv = report["tune"], report["eval"], report["tune_cross_validation"]
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
        f"| tuning (tune.tsv, trained on) | {tune['utterances']} | "
        f"{tune['macro_accuracy']:.4f} | {tune['micro_accuracy']:.4f} |",
        f"| tuning, {cv['folds']}-fold cross-validation (each fold held out) | "
        f"{tune['utterances']} | {cv['macro_accuracy']:.4f} | - |",
        f"| **evaluation (eval.tsv)** | {held_out['utterances']} | "
        f"**{held_out['macro_accuracy']:.4f}** | {held_out['micro_accuracy']:.4f} |",
        "",
        f"The classifier's head is trained on the bundled exemplars and on tune.tsv's lines "
        f"(voice_agent/dialogue/exemplars/en_training.tsv), so the tuning row is training "
        f"accuracy; the cross-validation row trains on the exemplars and four fifths of "
        f"tune.tsv and scores the fifth held out (the exemplars were written while looking at "
        f"tune.tsv, so it is optimistic too). Classifier build: {report['classifier_build_s']} "
        f"s.",
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
    lines += [
        "",
        "Confusion-matrix columns: "
        + ", ".join(f"{ABBREVIATIONS[label]} = {label}" for label in sorted(ABBREVIATIONS))
        + ".",
    ]
    for name, part in (("evaluation", held_out), ("tuning", tune)):
        lines += _confusion_matrix(f"{name} part", part, labels)
    return "\n".join(lines) + "\n"


def _confusion_matrix(name: str, part: dict[str, Any], labels: Sequence[str]) -> list[str]:
    columns = sorted({p for row in part["confusion"].values() for p in row} | set(labels))
    columns = [c for c in columns if c != NONE_LABEL] + [NONE_LABEL]
    short = [ABBREVIATIONS.get(c, c) for c in columns]
    lines = [
        "",
        f"## Confusion matrix, {name} (rows: true label, columns: predicted)",
        "",
        "| true \\ predicted | " + " | ".join(short) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for label in sorted(part["confusion"]):
        row = part["confusion"][label]
        cells = [str(row.get(column, "")) for column in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


# --- every offered language --------------------------------------------------------------

LANGUAGES_COMMAND = "python -m benchmarks.intents --languages"


def eval_corpus(language: str) -> Path:
    """A language's held-out slice: eval.tsv for English, eval_<language>.tsv otherwise."""
    return CORPUS / ("eval.tsv" if language == "en" else f"eval_{language}.tsv")


def multi_corpus(language: str) -> Path:
    """A language's turns of several requests: multi.tsv for English, multi_<language>.tsv."""
    return CORPUS / ("multi.tsv" if language == "en" else f"multi_{language}.tsv")


def _timed(build: Callable[[], T]) -> tuple[T, dict[str, float]]:
    """What ``build`` returns, and the wall-clock and CPU seconds it took (on a shared
    machine the wall clock also counts others' work)."""
    started, cpu = time.perf_counter(), time.process_time()
    built = build()
    return built, {
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
    }


def languages_report(app: App) -> dict[str, Any]:
    """Per language, its held-out slice understood before (the English exemplars alone, and
    the English rules: the agent before issue 15) and after (the app's understander: each
    language's classifier, the turn's language given); and English with one head over every
    offered language's phrases, the alternative to a head of its own."""
    offered = app.settings.languages.offered
    embedder = app.sentence_embedder
    english, english_build_s = _timed(lambda: IntentClassifier(embedder, load_exemplars("en")))
    heads, heads_build_s = _timed(lambda: classifiers_by_language(embedder, offered))
    one_head, one_head_build_s = _timed(
        lambda: IntentClassifier(embedder, load_languages(offered))
    )
    before, after = Understander(english), Understander(heads.get("en"), heads)
    per_language: dict[str, Any] = {}
    for language in offered:
        corpus = load_corpus(eval_corpus(language))
        understood = partial(after, language=language)
        per_language[language] = {
            "corpus": str(eval_corpus(language).relative_to(HERE.parent)),
            "before": single_scores(before, corpus),
            "after": single_scores(understood, corpus),
            "multi": multi_scores(understood, load_corpus(multi_corpus(language))),
            "latency_ms": latency(understood, [example.text for example in corpus]),
        }
    english_one_head = single_scores(Understander(one_head), load_corpus(eval_corpus("en")))
    return {
        "benchmark": "intents-languages",
        "command": LANGUAGES_COMMAND,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()}-core CPU",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "offered": list(offered),
        "tuning": str(english.tuning),
        "heads": {
            language: ", ".join(classifier.languages) for language, classifier in heads.items()
        },
        "phrases": {language: classifier.phrase_count for language, classifier in heads.items()},
        "classifier_build_s": {
            "English alone": english_build_s,
            "per language (the app's)": heads_build_s,
            "one head for all": one_head_build_s,
        },
        "english_with_one_head": {
            "macro_accuracy": english_one_head["macro_accuracy"],
            "micro_accuracy": english_one_head["micro_accuracy"],
        },
        "languages": per_language,
    }


def _languages_markdown(report: dict[str, Any]) -> str:
    results = report["languages"]
    offered = report["offered"]
    build = report["classifier_build_s"]
    lines = [
        "# Intent understanding per language",
        "",
        f"`{report['command']}` on {report['date']} ({report['machine']}, load average "
        f"{report['load_average_1min']} at the start); tuning: `{report['tuning']}`.",
        "",
        "Each language's held-out slice (`benchmarks/intents/eval_<language>.tsv`, English: "
        "`eval.tsv`), written independently of the exemplars and never tuned on. **Before**: "
        "the classifier on the English exemplars alone, every turn read as English (the agent "
        "before issue 15). **After**: the app's understander, each turn read with its "
        "language's classifier and rules.",
        "",
        "| language | corpus | turns | head learns | macro before | **macro after** | "
        "micro after | multi-part exact (turns) | p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for language in offered:
        result = results[language]
        after = result["after"]
        lines.append(
            f"| {language} | {result['corpus']} | {after['utterances']} | "
            f"{report['heads'][language]} ({report['phrases'][language]} phrases) | "
            f"{result['before']['macro_accuracy']:.4f} | **{after['macro_accuracy']:.4f}** | "
            f"{after['micro_accuracy']:.4f} | {result['multi']['exact']:.4f} "
            f"({result['multi']['turns']}) | {result['latency_ms']['p50']} / "
            f"{result['latency_ms']['p95']} |"
        )
    one_head = report["english_with_one_head"]
    lines += [
        "",
        "Multi-part: `multi_<language>.tsv` (English `multi.tsv`), turns of two requests; one "
        "counts when the understanding lists exactly its labels, in the order said (a request "
        "whose answer another covers, nlu's SUBSUMES, is left out by design, so some labelled "
        "pairs cannot be met exactly).",
        "",
        f"English read by one head over every offered language's phrases instead of its own: "
        f"macro {one_head['macro_accuracy']:.4f}, micro {one_head['micro_accuracy']:.4f}: "
        "learning the other languages cost English accuracy, so English keeps a head of its "
        "own (voice_agent/dialogue/classifier.py, classifiers_by_language).",
        "",
        "Classifier build at start-up (every phrase embedded once, heads trained), wall clock "
        "/ CPU: "
        + "; ".join(
            f"{name} {taken['wall_s']} s / {taken['cpu_s']} s" for name, taken in build.items()
        )
        + ".",
        "",
        "## Accuracy per label, after",
        "",
        "| label | " + " | ".join(offered) + " |",
        "|---" * (len(offered) + 1) + "|",
    ]
    labels = sorted({label for r in results.values() for label in r["after"]["accuracy_per_label"]})
    for label in labels:
        cells = [
            str(results[language]["after"]["accuracy_per_label"].get(label, "-"))
            for language in offered
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Confusion-matrix columns: "
        + ", ".join(f"{ABBREVIATIONS[label]} = {label}" for label in sorted(ABBREVIATIONS))
        + ".",
    ]
    for language in offered:
        if language != "en":  # English's matrix is in intents.md
            lines += _confusion_matrix(f"{language}, after", results[language]["after"], labels)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="intent understanding benchmark")
    parser.add_argument("--tune", action="store_true", help="sweep on the tuning part only")
    parser.add_argument(
        "--languages", action="store_true", help="every offered language's held-out slice"
    )
    args = parser.parse_args(argv)
    app = App(load_settings())
    if args.languages:
        report = languages_report(app)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "intents-languages.json").write_text(json.dumps(report, indent=2) + "\n")
        (RESULTS / "intents-languages.md").write_text(_languages_markdown(report))
        print(_languages_markdown(report))
        return
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
        "machine": f"{platform.machine()}, {os.cpu_count()}-core CPU",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "exemplars": ", ".join(f"{language}.toml" for language in classifier.languages),
        "tuning": str(classifier.tuning),
        "classifier_build_s": round(build_s, 2),
        "tune": single_scores(understand, tune),
        "tune_cross_validation": cross_validate(
            cross_validation_folds(
                CachingEmbedder(app.sentence_embedder),
                app.settings.languages.default,
                tune,
                classifier.tuning,
            )
        ),
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
