"""Requests by meaning: a turn's text against example phrasings of each request.

Every exemplar phrase (voice_agent/dialogue/exemplars/<language>.toml) is embedded once, when
the classifier is built. A turn is embedded with the same sentence encoder and scored against
each request type: the mean cosine of its ``top_k`` nearest exemplars. The best type wins when
its score clears ``min_score`` and beats the runner-up by ``min_margin``; otherwise the
classifier is unsure and says so (the caller of the classifier decides what unsure means).

Answers that carry no request ("yes", "it's four seven seven zero zero", "thank you") have a
class of their own, ``none``: a turn nearest to it is confidently *not* a request, which is
different from a turn the classifier cannot place.

A turn may hold several requests ("where is my parcel, and can I get an invoice?"): it is split
into clauses at sentence ends and joining words, each clause is scored, and every confident
request is returned in the order said. The whole turn and its clauses are embedded in one
batch, so the extra clauses cost little.

Languages add exemplars, not code: the classifier takes the phrases of any number of
languages, and the sentence encoder maps them all into one space.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

import numpy as np
import numpy.typing as npt

from voice_agent.dialogue.nlu import Intent

logger = logging.getLogger(__name__)

NONE_LABEL = "none"
"""The exemplar class of answers that hold no request."""

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Texts in, one L2-normalised row per text out (SentenceEmbedder, or a fake in tests)."""

    def encode(self, texts: Sequence[str]) -> Vectors: ...


class ExemplarError(Exception):
    """An exemplar file is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Exemplars:
    """Phrases per class label (an Intent value, or ``none``), for one or more languages."""

    languages: tuple[str, ...]
    phrases: Mapping[str, tuple[str, ...]]

    def plus(self, other: Exemplars) -> Exemplars:
        """Both languages' phrases: a class gets the phrases of each."""
        labels = dict.fromkeys([*self.phrases, *other.phrases])
        merged = {
            label: self.phrases.get(label, ()) + other.phrases.get(label, ()) for label in labels
        }
        return Exemplars(self.languages + other.languages, merged)


_LABELS = frozenset({intent.value for intent in Intent} | {NONE_LABEL})


def load_exemplars(language: str) -> Exemplars:
    """The bundled exemplars of one language (``exemplars/<language>.toml``)."""
    if not re.fullmatch(r"[a-z]{2,3}(?:-[A-Za-z]{2,4})?", language):
        raise ExemplarError(f"{language!r} is not a language code (expected e.g. 'en')")
    name = f"{language}.toml"
    source = resources.files("voice_agent.dialogue") / "exemplars" / name
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = sorted(
            entry.name.removesuffix(".toml")
            for entry in (resources.files("voice_agent.dialogue") / "exemplars").iterdir()
            if entry.name.endswith(".toml")
        )
        raise ExemplarError(
            f"no intent exemplars for language {language!r} (voice_agent/dialogue/exemplars/"
            f"{name}); languages with exemplars: {', '.join(known) or 'none'}"
        ) from None
    return parse_exemplars(text, language, name)


def parse_exemplars(text: str, language: str, source: str = "<exemplars>") -> Exemplars:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ExemplarError(f"{source}: not valid TOML ({error})") from None
    phrases: dict[str, tuple[str, ...]] = {}
    for label, values in raw.items():
        if label not in _LABELS:
            raise ExemplarError(
                f"{source}: {label!r} is not a request type (known: {', '.join(sorted(_LABELS))})"
            )
        if not isinstance(values, list) or not values:
            raise ExemplarError(f"{source}: {label} must be a non-empty list of phrases")
        if not all(isinstance(value, str) and value.strip() for value in values):
            raise ExemplarError(f"{source}: {label} holds something that is not a phrase")
        phrases[label] = tuple(value.strip() for value in values)
    return Exemplars((language,), phrases)


# --- text as the encoder sees it ---------------------------------------------------------

_NUMBER_WORDS = (
    "zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple|hundred|thousand"
)
_DIGIT_RUN = re.compile(
    r"\d[\d\s-]*\d|\d"  # 12345, 12 345, 12-345
    rf"|\b(?:{_NUMBER_WORDS})(?:[\s,-]+(?:{_NUMBER_WORDS}))+\b"  # four seven seven zero zero
)
NUMBER_PLACEHOLDER = "0"
"""What a run of digits becomes: an order number must not pull a turn towards any request."""


def prepare(text: str, collapse_digits: bool = True) -> str:
    """The text as it is embedded: lower case, single spaces, digit runs as one placeholder."""
    said = " ".join(text.lower().split())
    if collapse_digits:
        said = _DIGIT_RUN.sub(NUMBER_PLACEHOLDER, said)
    return said


# --- clauses -----------------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(
    r"(?<=[.?!;])\s+"  # sentence ends
    r"|\s*,?\s+\b(?:and also|and then|and another thing|oh and|and|also|plus)\b\s*,?\s*",
    re.IGNORECASE,
)
MIN_CLAUSE_WORDS = 3
"""A shorter piece ("and black") stays with the clause before it."""


def clauses(text: str) -> tuple[str, ...]:
    """The turn cut where a new request may start: sentence ends, "and", "also", "plus".

    A piece of fewer than MIN_CLAUSE_WORDS words stays joined, as said, to the clause before
    it (or after, for the first), so "black and white" or "yes, and ..." never stand alone.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in _CLAUSE_BREAK.finditer(text):
        spans.append((start, cut.start()))
        start = cut.end()
    spans.append((start, len(text)))
    spans = [(a, b) for a, b in spans if text[a:b].strip(" ,")]
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and (
            len(text[a:b].split()) < MIN_CLAUSE_WORDS
            or len(text[slice(*merged[-1])].split()) < MIN_CLAUSE_WORDS
        ):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return tuple(text[a:b].strip(" ,") for a, b in merged)


# --- the classifier ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tuning:
    """Chosen on benchmarks/intents/tune.tsv and multi.tsv (python -m benchmarks.intents)."""

    top_k: int = 3
    """A class scores the mean cosine of this many of its nearest exemplars."""
    min_score: float = 0.3
    """Below this the classifier is unsure."""
    min_margin: float = 0.0
    """The best class must beat the runner-up by this much, else unsure."""
    part_min_score: float = 0.45
    """A clause of a multi-part turn counts as a request of its own from this score."""
    single_score: float = 0.55
    """A turn whose whole reading scores this much is one request, whatever its clauses say
    (two requests in one turn embed between the two, so neither scores high)."""
    none_penalty: float = 0.2
    """Taken off the answer class's score: a request that scores near an answer is a request
    (answers are short and alike, so their class lies close to many turns)."""
    collapse_digits: bool = True


@dataclass(frozen=True, slots=True)
class Scored:
    """One text's best class: an intent, or None for the answer class ``none``."""

    intent: Intent | None
    score: float
    margin: float
    """Best score minus the runner-up's."""
    confident: bool

    @property
    def request(self) -> Intent | None:
        """The intent, when the classifier is confident it is a request."""
        return self.intent if self.confident else None


@dataclass(frozen=True, slots=True)
class Reading:
    """A turn read whole and clause by clause."""

    whole: Scored
    parts: tuple[tuple[str, Scored], ...]
    """Each clause and its score; one entry (the whole turn) when the turn has one clause."""

    single_score: float = 1.0

    @property
    def several(self) -> bool:
        """Whether the clauses may hold requests of their own: the whole turn does not read
        clearly as one, or reads as one of theirs."""
        whole = self.whole
        if whole.score >= self.single_score:
            return False
        return not whole.confident or any(scored.intent is whole.intent for _, scored in self.parts)

    @property
    def requests(self) -> tuple[tuple[Intent, float], ...]:
        """Every confident request in the order said, each once, when the clauses name two or
        more and the whole turn reads as one of them (a clause that only sets the scene, "I
        ordered shoes in 42", must not add a request); otherwise the whole turn's."""
        found: list[tuple[Intent, float]] = []
        for _, scored in self.parts:
            fresh = all(intent is not scored.intent for intent, _ in found)
            if scored.intent is not None and scored.confident and fresh:
                found.append((scored.intent, scored.score))
        whole = self.whole
        if len(found) >= 2 and self.several:
            return tuple(found)
        if whole.request is not None:
            return ((whole.request, whole.score),)
        return () if whole.confident else tuple(found[:1])


class IntentClassifier:
    """Exemplars embedded once; each turn costs one batched encode and a matrix product."""

    def __init__(self, embedder: Embedder, exemplars: Exemplars, tuning: Tuning | None = None):
        self.tuning = tuning or Tuning()
        self.languages = exemplars.languages
        self._embedder = embedder
        labels = sorted(label for label, phrases in exemplars.phrases.items() if phrases)
        if not any(label != NONE_LABEL for label in labels):
            raise ExemplarError("no request exemplars: the classifier has nothing to choose from")
        self.classes: tuple[Intent | None, ...] = tuple(
            None if label == NONE_LABEL else Intent(label) for label in labels
        )
        texts: list[str] = []
        bounds: list[tuple[int, int]] = []
        for label in labels:
            phrases = [self._prepare(phrase) for phrase in exemplars.phrases[label]]
            bounds.append((len(texts), len(texts) + len(phrases)))
            texts.extend(phrases)
        self._bounds = tuple(bounds)
        self._none = self.classes.index(None) if None in self.classes else None
        self._matrix: Vectors = np.ascontiguousarray(embedder.encode(texts).T)
        logger.info(
            "intent classifier: %d exemplars over %d classes (%s)",
            len(texts),
            len(labels),
            ", ".join(self.languages),
        )

    def _prepare(self, text: str) -> str:
        return prepare(text, self.tuning.collapse_digits)

    def class_scores(self, vectors: Vectors) -> npt.NDArray[np.float32]:
        """(texts, classes): per class, the mean cosine of its top_k nearest exemplars."""
        similarities = vectors @ self._matrix
        scores = np.empty((len(vectors), len(self._bounds)), dtype=np.float32)
        for column, (start, end) in enumerate(self._bounds):
            block = similarities[:, start:end]
            k = min(self.tuning.top_k, end - start)
            if k < end - start:
                block = np.partition(block, end - start - k, axis=1)[:, end - start - k :]
            scores[:, column] = block.mean(axis=1)
        if self._none is not None:
            scores[:, self._none] -= self.tuning.none_penalty
        return scores

    def _scored(self, row: npt.NDArray[np.float32], min_score: float) -> Scored:
        order = np.argsort(row)[::-1]
        best = float(row[order[0]])
        margin = best - float(row[order[1]]) if len(order) > 1 else best
        confident = best >= min_score and margin >= self.tuning.min_margin
        return Scored(self.classes[int(order[0])], best, margin, confident)

    def read(self, text: str) -> Reading:
        """The whole turn and each of its clauses, scored (one encode for all of them)."""
        parts = clauses(text) or (text,)
        texts = [text] if len(parts) == 1 else [text, *parts]
        scores = self.class_scores(self._embedder.encode([self._prepare(t) for t in texts]))
        whole = self._scored(scores[0], self.tuning.min_score)
        if len(parts) == 1:
            return Reading(whole, ((text, whole),), self.tuning.single_score)
        scored = tuple(
            (part, self._scored(row, self.tuning.part_min_score))
            for part, row in zip(parts, scores[1:], strict=True)
        )
        return Reading(whole, scored, self.tuning.single_score)

    def score(self, text: str) -> Scored:
        """The whole turn's best class, confident or not."""
        vectors = self._embedder.encode([self._prepare(text)])
        return self._scored(self.class_scores(vectors)[0], self.tuning.min_score)

    def classify(self, text: str) -> tuple[Intent, float] | None:
        """The request the whole turn makes, or None (an answer, or unsure)."""
        scored = self.score(text)
        return None if scored.request is None else (scored.request, scored.score)

    def classify_all(self, text: str) -> tuple[tuple[Intent, float], ...]:
        """Every request in the turn, in the order said."""
        return self.read(text).requests
