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

A turn in another language (German, Spanish, French, Portuguese) is read the same way, with
that language's rules (voice_agent.dialogue.language_rules) where English has nlu's: the
decisive control requests, a clause that calls a request off, anger, and the joining words
its clauses are cut at. It has no broad rules: what the classifier cannot place is no request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from text_to_num import alpha2digit

from voice_agent.dialogue import language_rules
from voice_agent.dialogue.classifier import IntentClassifier, Scored
from voice_agent.dialogue.entities import yes_or_no
from voice_agent.dialogue.nlu import (
    SUBSUMES,
    Intent,
    Understanding,
    classify,
    is_frustrated,
    normalise,
    understand,
)
from voice_agent.lexicon import canonical

logger = logging.getLogger(__name__)

DECISIVE = frozenset({Intent.HUMAN, Intent.REPEAT, Intent.SLOWER, Intent.GOODBYE})
"""Rule intents that win over the classifier: their phrases are (nearly) unmistakable."""

OVERRULE_MARGIN = 0.25
"""A decisive rule loses only to a classifier this sure of a different request (its margin)."""


def decisive(text: str) -> Intent | None:
    """The decisive rule intent ``text`` names, if any."""
    intent = classify(text)
    return intent if intent in DECISIVE else None


@dataclass(frozen=True, slots=True)
class _Rules:
    """What the understanding asks of one language's rules."""

    decisive: Callable[[str], Intent | None]
    named: Callable[[str], Intent | None]
    """Any request the rules name (English: nlu's broad rules; others: the decisive ones and
    a complaint)."""
    called_off: Callable[[str], bool]
    frustrated: Callable[[str], bool]


def _english_called_off(part: str) -> bool:
    return bool(_CALLED_OFF.match(part))


def _rules(language: str) -> _Rules:
    if language == "en":
        return _Rules(decisive, classify, _english_called_off, is_frustrated)
    language_rules.rules_for(language)  # a clear error for a language without rules
    return _Rules(
        partial(language_rules.decisive, language=language),
        partial(language_rules.named, language=language),
        partial(language_rules.called_off, language=language),
        partial(language_rules.is_frustrated, language=language),
    )


class _Unsure:
    pass


UNSURE = _Unsure()


def _decide(text: str, scored: Scored, rules: _Rules) -> Intent | _Unsure | None:
    """A request, None (an answer), or UNSURE, for one text and its classifier score."""
    rule = rules.decisive(text)
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

    def __init__(
        self,
        classifier: IntentClassifier | None = None,
        by_language: Mapping[str, IntentClassifier] | None = None,
    ) -> None:
        self.classifier = classifier
        """The classifier of a language that ``by_language`` does not name."""
        self.by_language = dict(by_language or {})
        """The classifier reading each language's turns (classifier.classifiers_by_language)."""

    def classifier_for(self, language: str) -> IntentClassifier | None:
        return self.by_language.get(language, self.classifier)

    def __call__(self, text: str, language: str = "en") -> Understanding:
        """The turn understood; ``language`` is the turn's (a two-letter code), English
        unless said."""
        if language == "en":
            if self.classifier_for(language) is None:
                return understand(text)
            said, yes_no = normalise(text), yes_or_no(text)
        else:
            language_rules.rules_for(language)  # a clear error for a language without rules
            # yes and no in the caller's words, read through the language's lexicon
            said, yes_no = _said(text), yes_or_no(canonical(text, language))
        # Numbers as digits, which the classifier reads as one token whatever they are (an
        # order number said in words is no request: "ja, das ist die drei eins eins ...").
        words = text if language == "en" else alpha2digit(text, language)
        intents = self.intents(words, language) if said else ()
        if language != "en" and Intent.GOODBYE in intents[:-1]:
            # A goodbye before another request is a greeting read as one ("Oi, tudo bem?
            # Queria saber onde está o meu pedido": "tudo bem" closes calls too).
            intents = tuple(intent for intent in intents if intent is not Intent.GOODBYE)
        return Understanding(said, intents[0] if intents else None, yes_no, intents)

    def intents(self, text: str, language: str = "en") -> tuple[Intent, ...]:
        """Every request in the turn, in the order said; a goodbye that ends the turn after
        a request ("..., I'll call back, bye") comes last."""
        rules = _rules(language)
        request, farewell = _ending_goodbye(text, rules)
        if farewell:
            found = self._intents(request, language, rules)
            if found and found[-1] is not Intent.GOODBYE:
                return (*found, Intent.GOODBYE)
        return self._intents(text, language, rules)

    def _intents(self, text: str, language: str, rules: _Rules) -> tuple[Intent, ...]:
        classifier = self.classifier_for(language)
        if classifier is None:  # another language without a classifier: its rules
            named = rules.named(text)
            return () if named is None else (named,)
        reading = classifier.read(text, language)
        whole = _decide(text, reading.whole, rules)
        if len(reading.parts) > 1:
            # Each clause confident of its own request counts, even when the whole turn
            # reads as one of them ("where's my order, and how long does shipping take").
            # A clause that calls a request off ("don't cancel it, just change the address")
            # is none.
            # When the whole turn reads clearly as one request, a clause counts only when it is
            # sure of its own by itself (or the rules name the same request in it): a clause
            # that only sets the scene ("I got the confirmation e-mail") must not add one.
            single = reading.whole.score >= reading.single_score
            negated = [part for part, _ in reading.parts if rules.called_off(part)]
            found = _uncovered(
                _unique(
                    intent
                    for part, scored in reading.parts
                    if part not in negated
                    and isinstance(intent := _decide(part, scored, rules), Intent)
                    and not _only_anger(part, intent, rules)
                    and (not single or _sure_part(part, intent, scored, rules))
                )
            )
            if negated and found:
                return found
            if len(found) >= 2 and (whole in found or isinstance(whole, _Unsure)):
                return found
            if found and _blend(whole, reading.parts, found):
                return found
        if whole is Intent.COMPLAINT and _only_anger(text, whole, rules):
            # Anger read as a complaint: the request the rules name behind it ("this is the
            # worst service, my parcel is lost") is the turn's; the engine acknowledges the anger.
            rule = rules.named(text)
            if rule is not None and rule not in DECISIVE:
                return (rule,)
        if isinstance(whole, Intent):
            return (whole,)
        if whole is None:
            return ()
        fallback = rules.named(text)
        return () if fallback is None else (fallback,)


_CALLED_OFF = re.compile(
    r"^\W*(?:(?:actually|no|oh|wait|sorry|please|so)\W+)*"
    r"(?:don't|do not|no need to|i'm not \w+ing|i am not \w+ing)\b",
    re.IGNORECASE,
)
_GOODBYE_END = re.compile(r"[,.;!?]\s*([^,.;!?]+?)[.!]*\s*$")


def _ending_goodbye(text: str, rules: _Rules) -> tuple[str, bool]:
    """The turn without its last piece, and whether that piece is a goodbye ("..., bye")."""
    found = _GOODBYE_END.search(text)
    if found is None or not text[: found.start()].strip():
        return text, False
    return text[: found.start()], rules.named(found.group(1)) is Intent.GOODBYE


def _said(text: str) -> str:
    """Another language's turn as Understanding's text: lower case, words (accents kept)
    and digits separated by single spaces."""
    return " ".join(re.findall(r"[^\W_]+(?:'[^\W_]+)*", text.lower().replace("’", "'")))


STRONG_PART = 0.85
"""In a turn that reads as one request, a clause scoring this much is a request of its own when
the rules name the same request in it; from SURE_PART, whatever the rules say."""
SURE_PART = 0.97


def _sure_part(part: str, intent: Intent, scored: Scored, rules: _Rules) -> bool:
    return scored.score >= SURE_PART or (
        scored.score >= STRONG_PART and rules.named(part) is intent
    )


def _blend(
    whole: Intent | _Unsure | None,
    parts: tuple[tuple[str, Scored], ...],
    found: tuple[Intent, ...],
) -> bool:
    """Whether the whole turn's request is only a blend of its clauses': no clause reads as it,
    and each request found is one a clause is sure of by itself ("you took my money twice, I
    want it back" reads whole as a refund; its first clause is sure of a double charge)."""
    if not isinstance(whole, Intent) or any(scored.intent is whole for _, scored in parts):
        return False
    sure = {scored.intent for _, scored in parts if scored.confident and scored.score >= SURE_PART}
    return all(intent in sure for intent in found)


def _only_anger(part: str, intent: Intent, rules: _Rules) -> bool:
    """A clause that vents ("I am so fed up") read as a complaint: anger, acknowledged by the
    engine, is no request for the shop unless the caller names a complaint."""
    return intent is Intent.COMPLAINT and rules.frustrated(part) and rules.named(part) is not intent


def _uncovered(intents: tuple[Intent, ...]) -> tuple[Intent, ...]:
    """Leaving out a request whose answer another of the turn covers (nlu's ``SUBSUMES``:
    "it never arrived, where is it" is one lost-parcel answer)."""
    return tuple(
        intent
        for intent in intents
        if not any(intent in SUBSUMES.get(other, ()) for other in intents if other is not intent)
    )


def _unique(intents: Iterable[Intent]) -> tuple[Intent, ...]:
    found: list[Intent] = []
    for intent in intents:
        if intent not in found:
            found.append(intent)
    return tuple(found)
