"""What one language contributes to the canonical text: its closed-class words, as data."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Replacement = str | Callable[[re.Match[str]], str]
Fix = tuple[re.Pattern[str], Replacement]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """One language's closed-class words and the English the entity parsers read for them.

    Keys are lower case and may hold several words ("código postal", "nein ich meine");
    hyphens and apostrophes split words as in the caller's text ("e-mail" is "e mail",
    "c'est" is "c' est"). A key written with accents also matches without them (ASR often
    drops them), unless that bare form is listed in ``accents_matter``.
    """

    code: str
    words: Mapping[str, str]
    """Words and phrases rewritten wherever they stand: keywords, yes/no, corrections,
    e-mail symbols, weekdays, relative days, articles and copulas of a preamble."""
    preamble: Mapping[str, str]
    """Articles and possessives -> "the"/"my", rewritten only before a keyword of ``words``
    ("die Postleitzahl"), so that names keep theirs ("Rue de la Paix")."""
    copulas: Mapping[str, str]
    """ "is"/"are" words, rewritten only right after a keyword ("E-Mail ist", "CEP é"), so that
    "Rua São Bento" keeps its saint."""
    letters: Mapping[str, str]
    """Letter names -> the letter(s), rewritten only inside a spelled stretch."""
    common_letters: frozenset[str] = frozenset()
    """Letter names that are everyday words too ("de", "es", "te"): a letter only next to
    another letter, not merely next to a digit ("cuatro de mayo")."""
    spelling_joiners: frozenset[str] = frozenset()
    """The word between a letter and a word that tells it ("M wie Martha": "wie")."""
    never_letters: frozenset[str] = frozenset()
    """Single characters that are words, never spelled letters here (Portuguese "é": is)."""
    months: Mapping[str, str] = field(default_factory=dict)
    """Month names -> English; rewritten only next to a day ("am 3. Mai", "3 de mayo"),
    so that a street ("Avenida de Mayo") keeps its name."""
    conjunction: str = ""
    """The word for "and" that may stand between two groups of digits."""
    turn_start: Mapping[str, str] = field(default_factory=dict)
    """Words that mean their value only opening a turn or clause, followed by a pause or a yes
    (Spanish "si": "if" inside a sentence, "yes" alone; "¿cuánto vale?" costs, "vale." is
    okay; "warte, ..." corrects, "ich warte" waits)."""
    small_numbers: Mapping[str, str] = field(default_factory=dict)
    """Number words text2num leaves alone when they stand by themselves ("eins", "uno", "un",
    "um"): digits only beside a spelled letter or a digit ("V sechs B eins A eins")."""
    accents_matter: frozenset[str] = frozenset()
    fixes: tuple[Fix, ...] = ()
    before_numbers: tuple[Fix, ...] = ()
    """Patterns over the caller's text before number words become digits (Portuguese "meia"
    among digits is "seis")."""
    """Patterns over the rewritten text, in order ("vor 3 tagen" -> "3 days ago")."""
    function_words: frozenset[str] = frozenset()
    """Frequent words of typed turns, for guessing a turn's language."""
    marks: str = ""
    """Characters typical of the language's spelling ("ßäöü"), for the same guess."""
