"""Which language a typed turn is in, from its words alone (text chat has no audio to detect
it from).

Each frequent word of a language (articles, pronouns, auxiliaries, question words, the
words of support requests) is a vote for every language it belongs to, shared among them
("de" is Spanish, French and Portuguese); a word spelled with a language's own letters
("ß", "ñ", "ã") votes for it too. A guess is made only on clear evidence: votes from two
words at least, and twice the runner-up's; otherwise None (short, mixed or foreign
turns), so a product name or a loanword ("okay", "Tracking") never flips a call's language.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping

from num2words import num2words

from voice_agent.lexicon import de, en, es, fr, pt


def _number_words(language: str) -> frozenset[str]:
    """The language's number words up to twenty and the tens ("trois", "quatre", "vierzig"):
    callers say order numbers and postcodes in them, and few words tell a language better."""
    locale = {"pt": "pt_BR"}.get(language, language)
    said = (num2words(n, lang=locale) for n in (*range(21), *range(30, 100, 10)))
    return frozenset(word for phrase in said for word in re.split(r"[\s-]+", phrase.lower()))


FUNCTION_WORDS: Mapping[str, frozenset[str]] = {
    "en": en.FUNCTION_WORDS | _number_words("en"),
    "de": de.LEXICON.function_words | _number_words("de"),
    "es": es.LEXICON.function_words | _number_words("es"),
    "fr": fr.LEXICON.function_words | _number_words("fr") | {"en"},
    "pt": pt.LEXICON.function_words | _number_words("pt"),
}
MARKS: Mapping[str, str] = {
    "de": de.LEXICON.marks,
    "es": es.LEXICON.marks,
    "fr": fr.LEXICON.marks,
    "pt": pt.LEXICON.marks,
}
MIN_WORDS = 2
"""Distinct words that must vote for the winner."""
MARGIN = 2.0
"""How many times the runner-up's votes the winner needs."""

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]*)?")
_INVERTED = re.compile(r"[¿¡]")


def text_language(text: str, offered: tuple[str, ...]) -> str | None:
    """The language of a typed turn among ``offered``, or None when the words do not say
    clearly (see the module's doc)."""
    votes: dict[str, float] = defaultdict(float)
    voters: dict[str, set[str]] = defaultdict(set)
    for word in _WORD.findall(text.lower().replace("’", "'")):
        if len(word) == 1 and word.isascii():
            continue  # a spelled letter ("M one one A E"), or "a" / "e" / "y": any language
        for language, share in _word_votes(word).items():
            votes[language] += share
            voters[language].add(word)
    if _INVERTED.search(text):
        votes["es"] += 1.0  # "¿" and "¡" open only Spanish questions and exclamations
    if not votes:
        return None
    ranked = sorted(votes, key=lambda language: votes[language], reverse=True)
    best = ranked[0]
    runner_up = votes[ranked[1]] if len(ranked) > 1 else 0.0
    if len(voters[best]) < MIN_WORDS or votes[best] < MARGIN * runner_up:
        return None
    return best if best in offered else None


def _word_votes(word: str) -> dict[str, float]:
    """The share of one word's vote each language gets (words, then its spelling)."""
    forms = {word}
    if "'" in word:
        forms.add(word[: word.index("'") + 1])  # "l'adresse": the French elision "l'"
    shares: dict[str, float] = defaultdict(float)
    known = [language for language, words in FUNCTION_WORDS.items() if forms & words]
    for language in known:
        shares[language] += 1 / len(known)
    spelled = [language for language, marks in MARKS.items() if any(ch in marks for ch in word)]
    for language in spelled:
        shares[language] += 1 / len(spelled)
    return shares
