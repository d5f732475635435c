"""Reply text cut into short clauses, the unit Piper synthesizes (it renders whole sentences only).

Cuts fall at sentence ends, commas, semicolons, colons and dashes; a clause still longer than
the limit is cut at word boundaries, and the first clause of a reply is kept shorter still so
its audio comes fast. Tokens are whitespace-separated words, so "3.5", "1,200" and "10:30"
never split; known abbreviations ("Mr.", "e.g.") and initials ("J.", "U.S.") end no clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

MIN_TAIL_WORDS = 2
"""A word-boundary cut leaves at least this many words behind it (no lone trailing word)."""

_ABBREVIATIONS = frozenset(
    "mr. mrs. ms. dr. prof. st. jr. sr. no. nos. vs. etc. e.g. i.e. approx. inc. ltd. co. "
    "corp. dept. ca. fig. vol. ref. tel. mt.".split()
)
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)+$")
"""Single-letter initials and dotted acronyms: "J.", "U.S.", "a.m."."""
_CLOSERS = "\"')]}»”’"
_SENTENCE_END = re.compile(r"[.!?…]+$")
_CLAUSE_END = re.compile(r"[,;:]$")
_DASHES = frozenset({"-", "–", "—", "--"})

# A cut right after these leaves them dangling ("ship to | Berlin", "the | parcel").
_BINDS_FORWARD = frozenset(
    "a an the to of in on at by for with from into onto about my your our their his her its "
    "this these those and or but nor than as per very not no mr mrs ms dr i we you it is are "
    "was were be will can could would should may might must do does did have has had i'm i'll "
    "we'll you'll it's that's there's".split()
)
# A cut right before these falls at a natural phrase boundary.
_STARTS_PHRASE = frozenset(
    "and or but so because since which who that if when while where after before until unless "
    "then to in on at for with from by within about into via once".split()
)
_TITLES = {"mr.": "Mister", "mrs.": "Missus", "ms.": "Miz", "dr.": "Doctor"}
_NUMBER_ABBREVIATION = re.compile(r"\b[Nn]o\.(?=\s*\d)")


class Pause(Enum):
    """What follows a clause: how it was cut from the next one."""

    SENTENCE = "sentence"
    """A sentence end: Piper's own falling tone and pause are kept."""
    CLAUSE = "clause"
    """A comma, semicolon, colon or dash: Piper's shorter pause is kept."""
    NONE = "none"
    """A cut between words to shorten the clause: the audio joins with no audible gap."""


@dataclass(frozen=True, slots=True)
class Clause:
    text: str
    pause: Pause

    @property
    def words(self) -> int:
        return len(self.text.split())


def split_clauses(text: str, max_words: int, first_words: int | None = None) -> list[Clause]:
    """Cut `text` into clauses of at most `max_words` words; the first at most `first_words`."""
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, got {max_words}")
    first_limit = max_words if first_words is None else max(1, min(first_words, max_words))
    clauses: list[Clause] = []
    for words, pause in _punctuated(text.split()):
        pieces = _cut_long(words, first_limit if not clauses else max_words, max_words)
        clauses.extend(Clause(" ".join(piece), Pause.NONE) for piece in pieces[:-1])
        clauses.append(Clause(" ".join(pieces[-1]), pause))
    return clauses


def speakable(text: str) -> str:
    """Text as espeak should read it: titles spelled out (espeak ends a sentence at "Mr.")."""
    text = _NUMBER_ABBREVIATION.sub("number", text)
    return " ".join(_TITLES.get(word.lower(), word) for word in text.split())


def _punctuated(words: list[str]) -> list[tuple[list[str], Pause]]:
    """Groups of words cut at punctuation; dashes standing alone become clause cuts."""
    groups: list[tuple[list[str], Pause]] = []
    current: list[str] = []
    for word in words:
        if word in _DASHES:
            if current:
                groups.append((current, Pause.CLAUSE))
                current = []
            continue
        current.append(word)
        pause = _pause_after(word)
        if pause is not None:
            groups.append((current, pause))
            current = []
    if current:
        groups.append((current, Pause.SENTENCE))
    return groups


def _pause_after(word: str) -> Pause | None:
    bare = word.rstrip(_CLOSERS)
    if not bare or bare.lower() in _ABBREVIATIONS or _INITIALS.match(bare):
        return None
    if _SENTENCE_END.search(bare):
        return Pause.SENTENCE
    if _CLAUSE_END.search(bare):
        return Pause.CLAUSE
    return None


def _cut_long(words: list[str], first_limit: int, limit: int) -> list[list[str]]:
    """Pieces of at most `first_limit` words for the first, `limit` for the rest.

    A first limit below `limit` asks for a short first piece (the start of a reply); otherwise
    the pieces are balanced ("4 + 4", not "6 + 2").
    """
    short_first = first_limit < limit
    pieces: list[list[str]] = []
    rest = words
    while len(rest) > (first_limit if not pieces else limit):
        first = not pieces
        cut = _best_cut(rest, first_limit if first else limit, shortest_first=first and short_first)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


def _best_cut(words: list[str], limit: int, shortest_first: bool) -> int:
    """How many words to take: as close to the target as the phrase boundaries allow."""
    count = len(words)
    longest = max(1, min(limit, count - MIN_TAIL_WORDS))
    if shortest_first:
        target = longest
    else:
        pieces = -(-count // limit)
        target = min(longest, -(-count // pieces))
    candidates = range(max(1, target - 2), longest + 1)
    return max(candidates, key=lambda cut: (_cut_quality(words, cut), -abs(cut - target)))


def _cut_quality(words: list[str], cut: int) -> int:
    before = _bare(words[cut - 1])
    after = _bare(words[cut])
    quality = 0
    if before in _BINDS_FORWARD or _is_number(before):
        quality -= 2
    if after in _STARTS_PHRASE:
        quality += 1
    return quality


def _bare(word: str) -> str:
    return word.strip(_CLOSERS + "\"'(").lower()


def _is_number(word: str) -> bool:
    return any(char.isdigit() for char in word)
