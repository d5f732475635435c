"""Requests by meaning: a turn's text against example phrasings of each request.

Every phrase of a language (voice_agent/dialogue/exemplars/<language>.toml, the exemplars,
and <language>_training.tsv, labelled caller turns) is embedded once, when the classifier is
built, and a linear softmax head is trained on them there (multinomial logistic regression,
L2-penalised, from zero weights: the same phrases always give the same head, in about a
second). Its features are the sentence embedding and hashed words and character n-grams of
the text (voice_agent/dialogue/embedding.py; ``lexical``). A turn is embedded with the same
encoder and scored by the head: each request type's probability. The best type wins when its
probability clears ``min_score`` and beats the runner-up by ``min_margin``; otherwise the
classifier is unsure and says so (the caller of the classifier decides what unsure means).
``Tuning(head="nearest")`` scores by the exemplars instead: the mean cosine of each type's
``top_k`` nearest phrases.

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

import itertools
import logging
import re
import tomllib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

import numpy as np
import numpy.typing as npt

from voice_agent.dialogue.language_rules import fold, rules_for
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


def load_exemplars(language: str, training: bool = True) -> Exemplars:
    """The bundled exemplars of one language (``exemplars/<language>.toml``), and with
    ``training`` its labelled caller turns too (``exemplars/<language>_training.tsv``, where
    there is one), which the softmax head learns from beside the exemplars."""
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
    exemplars = parse_exemplars(text, language, name)
    lines = resources.files("voice_agent.dialogue") / "exemplars" / f"{language}_training.tsv"
    if training and lines.is_file():
        tsv = lines.read_text(encoding="utf-8")
        merged = exemplars.plus(parse_training(tsv, language, lines.name))
        exemplars = Exemplars(exemplars.languages, merged.phrases)
    return exemplars


def load_languages(languages: Sequence[str], training: bool = True) -> Exemplars:
    """The bundled exemplars of several languages, merged (``Exemplars.plus``): one
    classifier for every language a deployment offers (the sentence encoder maps them all
    into one space)."""
    if not languages:
        raise ExemplarError("no languages to load intent exemplars for")
    loaded = [load_exemplars(language, training) for language in dict.fromkeys(languages)]
    merged = loaded[0]
    for more in loaded[1:]:
        merged = merged.plus(more)
    return merged


def parse_training(text: str, language: str, source: str = "<training>") -> Exemplars:
    """``label<TAB>utterance`` lines under a ``label<TAB>utterance`` header; lines starting
    with ``#`` are comments."""
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    if not lines or lines[0].split("\t") != ["label", "utterance"]:
        raise ExemplarError(f"{source}: the first line must be the header label<TAB>utterance")
    phrases: dict[str, list[str]] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        label, tab, phrase = line.partition("\t")
        if not tab or not phrase.strip() or "\t" in phrase:
            raise ExemplarError(f"{source}:{number}: expected label<TAB>utterance")
        if label not in _LABELS:
            raise ExemplarError(f"{source}:{number}: {label!r} is not a request type")
        phrases.setdefault(label, []).append(phrase.strip())
    return Exemplars((language,), {label: tuple(found) for label, found in phrases.items()})


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


# --- words and character n-grams --------------------------------------------------------

LEXICAL_DIMENSIONS = 2048
"""Hashed word, word-pair and character n-gram counts: the head's second feature block."""

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def lexical(texts: Sequence[str], dimensions: int = LEXICAL_DIMENSIONS) -> Vectors:
    """(texts, dimensions): each text's words, word pairs and 3-5 character pieces of words,
    hashed (crc32, the same in every process), log-counted and L2-normalised.

    They carry what a sentence embedding blurs: a keyword ("customs", "invoice") and its
    misheard spellings ("in voice", "costumes") share pieces.
    """
    rows = np.zeros((len(texts), dimensions), dtype=np.float32)
    for row, text in enumerate(texts):
        words = _WORD.findall(text.lower())
        features = [f"w {word}" for word in words]
        features += [f"b {first} {second}" for first, second in itertools.pairwise(words)]
        for word in words:
            padded = f"<{word}>"
            features += [
                f"c {padded[i : i + n]}" for n in (3, 4, 5) for i in range(len(padded) - n + 1)
            ]
        for feature in features:
            rows[row, zlib.crc32(feature.encode()) % dimensions] += 1.0
    np.log1p(rows, out=rows)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    rows /= np.where(norms > 0, norms, 1.0)
    return rows


# --- the softmax head --------------------------------------------------------------------


def train_softmax(
    features: Vectors, targets: npt.NDArray[np.intp], classes: int, l2: float, iterations: int
) -> Vectors:
    """Multinomial logistic regression with an L2 penalty (not on the bias), by Nesterov's
    accelerated full-batch gradient descent from zero weights with the step 1/L (L bounds the
    loss's curvature): deterministic, and converged enough in a few hundred steps.

    Gradient descent from zero keeps the weights in the span of the phrases' features
    (W = X^T A), so it runs on the phrases' Gram matrix, (phrases x phrases), with the very
    same steps, and costs far less than on (features x classes) weights when features
    outnumber phrases. Returns (features + 1, classes) weights, the last row the bias.
    """
    count = len(features)
    gram: Vectors = features @ features.T
    onehot = np.zeros((count, classes), dtype=np.float32)
    onehot[np.arange(count), targets] = 1.0
    # The largest squared singular value of [features, 1]: that of its Gram matrix plus ones.
    largest = float(np.linalg.eigvalsh(gram.astype(np.float64) + 1.0)[-1])
    step = np.float32(1.0 / (0.5 * largest / count + l2))
    penalty = np.float32(l2)
    share = np.float32(1.0 / count)
    dual: Vectors = np.zeros((count, classes), dtype=np.float32)
    bias: Vectors = np.zeros(classes, dtype=np.float32)
    dual_ahead, bias_ahead = dual.copy(), bias.copy()
    momentum = 1.0
    for _ in range(iterations):
        logits: Vectors = gram @ dual_ahead + bias_ahead
        residual: Vectors = (_softmax(logits) - onehot) * share
        gradient: Vectors = residual + dual_ahead * penalty
        dual_next: Vectors = dual_ahead - gradient * step
        bias_next: Vectors = bias_ahead - residual.sum(axis=0) * step
        following = (1.0 + (1.0 + 4.0 * momentum * momentum) ** 0.5) / 2.0
        carry = np.float32((momentum - 1.0) / following)
        dual_ahead = dual_next + carry * (dual_next - dual)
        bias_ahead = bias_next + carry * (bias_next - bias)
        dual, bias, momentum = dual_next, bias_next, following
    weights: Vectors = np.vstack([features.T @ dual, bias[None, :]])
    return weights


def _softmax(logits: Vectors) -> Vectors:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exponentials: Vectors = np.exp(shifted)
    probabilities: Vectors = exponentials / exponentials.sum(axis=1, keepdims=True)
    return probabilities


# --- clauses -----------------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(
    r"(?<=[.?!;])\s+"  # sentence ends
    r"|\s*,?\s+\b(?:and also|and then|and another thing|oh and|and|also|plus)\b\s*,?\s*"
    r"|\s*,\s*",  # a comma: "what's the tracking number, do I pay the tax"
    re.IGNORECASE,
)
MIN_CLAUSE_WORDS = 3
"""A shorter piece ("and black") stays with the clause before it."""

_OPENERS = frozenset(
    "can could would will may do does did is are please i i'd i'm what where when how who why"
    .split()
)
"""First words of a short piece that opens the next clause ("and can I also get an invoice":
"can I" goes with "get an invoice", not with the clause before)."""


def clauses(text: str, language: str = "en") -> tuple[str, ...]:
    """The turn cut where a new request may start: sentence ends, commas, "and", "also",
    "plus" (in another language its joining words: "und", "y", "et", "e", "außerdem", ...).

    A piece of fewer than MIN_CLAUSE_WORDS words stays joined, as said, to the clause before
    it (or after, for the first, or for one that opens a question, "can I"), so "black and
    white" or "yes, and ..." never stand alone.
    """
    breaks, openers = _CLAUSE_BREAK, _OPENERS
    if language != "en":
        rules = rules_for(language)
        breaks, openers = rules.clause_break, rules.openers
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in breaks.finditer(text):
        spans.append((start, cut.start()))
        start = cut.end()
    spans.append((start, len(text)))
    spans = [(a, b) for a, b in spans if text[a:b].strip(" ,")]
    merged: list[tuple[int, int]] = []
    forward: int | None = None
    for index, (a, b) in enumerate(spans):
        if forward is not None:
            a, forward = forward, None
        piece = text[a:b].split()
        short = len(piece) < MIN_CLAUSE_WORDS
        opens = bool(piece) and _first_word(piece[0], language) in openers
        if short and opens and merged and index + 1 < len(spans):
            forward = a  # "can I" + "get an invoice"
            continue
        if merged and (
            short or len(text[slice(*merged[-1])].split()) < MIN_CLAUSE_WORDS
        ):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return tuple(text[a:b].strip(" ,") for a, b in merged)


def _first_word(word: str, language: str) -> str:
    if language == "en":
        return word.lower().strip(",")
    folded = fold(word).split()  # "est-ce" -> "est"
    return folded[0] if folded else ""


# --- the classifier ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tuning:
    """Chosen by 5-fold cross-validation on benchmarks/intents/tune.tsv and on two-request
    turns made of its lines (python -m benchmarks.intents --tune).

    With the softmax head (the default) a score is the class's probability; with ``nearest``
    it is the mean cosine of the class's ``top_k`` nearest exemplars.
    """

    top_k: int = 3
    """Nearest scoring: a class scores the mean cosine of this many of its nearest exemplars."""
    min_score: float = 0.1
    """Below this the classifier is unsure."""
    min_margin: float = 0.0
    """The best class must beat the runner-up by this much, else unsure."""
    part_min_score: float = 0.7
    """A clause of a multi-part turn counts as a request of its own from this score."""
    single_score: float = 0.8
    """A turn whose whole reading scores this much is one request, whatever its clauses say
    (two requests in one turn read between the two, so neither scores high)."""
    none_penalty: float = 0.0
    """Taken off the answer class's score (nearest) or logit (softmax): a request that scores
    near an answer is a request (answers are short and alike, so their class lies close to
    many turns)."""
    collapse_digits: bool = True
    head: str = "softmax"
    """``softmax``: a linear softmax head over the sentence embedding and hashed words and
    character n-grams, trained on every phrase when the classifier is built; ``nearest``: the
    nearest exemplars' cosines."""
    l2: float = 1e-3
    """The softmax head's L2 penalty on its weights."""
    lexical_weight: float = 1.0
    """The hashed word and character n-gram features' length beside the embedding's (1)."""
    feature_scale: float = 8.0
    """Both feature blocks are multiplied by this before the head (a unit vector's logits
    would need large weights otherwise)."""
    iterations: int = 200
    """Full-batch accelerated gradient steps of the head's training (from zero weights, so
    the same phrases always give the same head)."""


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
        self.phrase_count = len(texts)
        self._none = self.classes.index(None) if None in self.classes else None
        if self.tuning.head not in ("softmax", "nearest"):
            raise ValueError(f"unknown classifier head {self.tuning.head!r}")
        vectors = _batched_encode(embedder, texts)
        self._matrix: Vectors = np.ascontiguousarray(vectors.T)
        self._weights: Vectors | None = None
        if self.tuning.head == "softmax":
            targets = np.repeat(
                np.arange(len(bounds)), [end - start for start, end in bounds]
            ).astype(np.intp)
            self._weights = train_softmax(
                self._features(vectors, texts),
                targets,
                len(bounds),
                self.tuning.l2,
                self.tuning.iterations,
            )
        logger.info(
            "intent classifier: %d phrases over %d classes (%s), %s head",
            len(texts),
            len(labels),
            ", ".join(self.languages),
            self.tuning.head,
        )

    def _prepare(self, text: str) -> str:
        return prepare(text, self.tuning.collapse_digits)

    def _features(self, vectors: Vectors, texts: Sequence[str]) -> Vectors:
        tuning = self.tuning
        blocks = [vectors, np.float32(tuning.lexical_weight) * lexical(texts)]
        features: Vectors = np.hstack(blocks) * np.float32(tuning.feature_scale)
        return features

    def class_scores(
        self, vectors: Vectors, texts: Sequence[str] | None = None
    ) -> npt.NDArray[np.float32]:
        """(texts, classes): per class, the softmax head's probability (``texts``, as
        prepared, are needed for the head's word features), or with the nearest head the mean
        cosine of its top_k nearest exemplars."""
        if self._weights is not None:
            if texts is None:
                raise ValueError("the softmax head needs the texts beside their vectors")
            features = self._features(vectors, texts)
            logits = features @ self._weights[:-1] + self._weights[-1]
            if self._none is not None:
                logits[:, self._none] -= np.float32(self.tuning.none_penalty)
            return _softmax(logits)
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

    def read(self, text: str, language: str = "en") -> Reading:
        """The whole turn and each of its clauses (cut at ``language``'s joining words),
        scored (one encode for all of them)."""
        parts = clauses(text, language) or (text,)
        texts = [self._prepare(t) for t in ([text] if len(parts) == 1 else [text, *parts])]
        scores = self.class_scores(self._embedder.encode(texts), texts)
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
        said = [self._prepare(text)]
        vectors = self._embedder.encode(said)
        return self._scored(self.class_scores(vectors, said)[0], self.tuning.min_score)

    def classify(self, text: str) -> tuple[Intent, float] | None:
        """The request the whole turn makes, or None (an answer, or unsure)."""
        scored = self.score(text)
        return None if scored.request is None else (scored.request, scored.score)

    def classify_all(self, text: str) -> tuple[tuple[Intent, float], ...]:
        """Every request in the turn, in the order said."""
        return self.read(text).requests


ENCODE_BATCH = 64
"""Phrases per encode call when the classifier is built (bounded memory, same vectors)."""


class _BuildMemo:
    """An embedder that encodes each distinct text once while classifiers are built (the
    heads of several languages share phrases: every head learns the English ones); after
    ``forget`` it passes turns straight through, keeping nothing."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._vectors: dict[str, Vectors] = {}
        self._remembering = True

    def forget(self) -> None:
        self._vectors.clear()
        self._remembering = False

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not self._remembering:
            return self._embedder.encode(texts)
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            encoded = _batched_encode(self._embedder, missing)
            self._vectors.update(zip(missing, encoded, strict=True))
        if not texts:
            return self._embedder.encode(texts)
        return np.stack([self._vectors[text] for text in texts])


def classifiers_by_language(
    embedder: Embedder, languages: Sequence[str], tuning: Tuning | None = None
) -> dict[str, IntentClassifier]:
    """The classifier that reads each language's turns.

    English has a head of its own, on its own phrases: learning the other languages' phrases
    too cost English accuracy (benchmarks/results/intents-languages.md). Every other language
    shares one head over the phrases of all of them and English's: the sentence encoder maps
    them into one space, and a language's few hundred phrases learn much from the others'
    (5-fold cross-validation on the de/es/fr/pt exemplars, macro accuracy: its own phrases
    alone 0.73-0.78, with English's 0.82-0.87, with all five languages' 0.89-0.93).
    Each phrase is embedded once.
    """
    if not languages:
        raise ExemplarError("no languages to build intent classifiers for")
    memo = _BuildMemo(embedder)
    built: dict[str, IntentClassifier] = {}
    if "en" in languages:
        built["en"] = IntentClassifier(memo, load_exemplars("en"), tuning)
    others = [language for language in dict.fromkeys(languages) if language != "en"]
    if others:
        shared = IntentClassifier(memo, load_languages(("en", *others)), tuning)
        built.update(dict.fromkeys(others, shared))
    memo.forget()
    return built


def _batched_encode(embedder: Embedder, texts: Sequence[str]) -> Vectors:
    if len(texts) <= ENCODE_BATCH:
        return embedder.encode(texts)
    return np.vstack(
        [embedder.encode(texts[i : i + ENCODE_BATCH]) for i in range(0, len(texts), ENCODE_BATCH)]
    )
