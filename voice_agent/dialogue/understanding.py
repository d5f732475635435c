"""One turn's understanding: a few decisive rules, then the intent classifier, then the old rules.

1. Decisive rules: asking for a person, to repeat, to slow down, or saying goodbye have phrases
   that hardly mean anything else ("operator", "say that again", "bye"); where nlu's rules find
   one, it wins, unless the classifier is sure of another request by a wide margin (nlu's
   person patterns also match "your customer service is terrible", a complaint).
2. The classifier (voice_agent.dialogue.classifier), clause by clause: every confident request
   in the order said. A turn the classifier reads as an answer ("yes", "it's 4 7 7 0 0",
   "thank you") holds no request.
3. nlu's broad rules only when the classifier is unsure of the whole turn.

Without a classifier (unit tests, a language without exemplars) it is nlu.understand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from voice_agent.dialogue.classifier import IntentClassifier, Scored
from voice_agent.dialogue.entities import yes_or_no
from voice_agent.dialogue.nlu import Intent, Understanding, classify, normalise, understand

logger = logging.getLogger(__name__)

DECISIVE = frozenset({Intent.HUMAN, Intent.REPEAT, Intent.SLOWER, Intent.GOODBYE})
"""Rule intents that win over the classifier: their phrases are (nearly) unmistakable."""

OVERRULE_MARGIN = 0.25
"""A decisive rule loses only to a classifier this sure of a different request (its margin)."""


def decisive(text: str) -> Intent | None:
    """The decisive rule intent ``text`` names, if any."""
    intent = classify(text)
    return intent if intent in DECISIVE else None


class _Unsure:
    pass


UNSURE = _Unsure()


def _decide(text: str, scored: Scored) -> Intent | _Unsure | None:
    """A request, None (an answer), or UNSURE, for one text and its classifier score."""
    rule = decisive(text)
    overruled = (
        scored.request is not None
        and scored.request is not rule
        and scored.margin >= OVERRULE_MARGIN
    )
    if rule is not None and not overruled:
        return rule
    if scored.confident:
        return scored.intent
    return UNSURE


class Understander:
    """Text in, Understanding out; the engine's ``understand`` step. Thread-safe."""

    def __init__(self, classifier: IntentClassifier | None = None) -> None:
        self.classifier = classifier

    def __call__(self, text: str) -> Understanding:
        if self.classifier is None:
            return understand(text)
        said = normalise(text)
        intents = self.intents(text) if said else ()
        return Understanding(said, intents[0] if intents else None, yes_or_no(text), intents)

    def intents(self, text: str) -> tuple[Intent, ...]:
        """Every request in the turn, in the order said."""
        assert self.classifier is not None
        reading = self.classifier.read(text)
        whole = _decide(text, reading.whole)
        if len(reading.parts) > 1 and reading.whole.score < reading.single_score:
            found = _unique(
                intent
                for part, scored in reading.parts
                if isinstance(intent := _decide(part, scored), Intent)
            )
            if len(found) >= 2 and (whole in found or isinstance(whole, _Unsure)):
                return found
        if isinstance(whole, Intent):
            return (whole,)
        if whole is None:
            return ()
        fallback = classify(text)
        return () if fallback is None else (fallback,)


def _unique(intents: Iterable[Intent]) -> tuple[Intent, ...]:
    found: list[Intent] = []
    for intent in intents:
        if intent not in found:
            found.append(intent)
    return tuple(found)
