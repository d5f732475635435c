"""A caller objecting to the call's recording, found in what they said.

A clause objects when an objection word (a negation, "stop", "turn off", "opt out", "object",
"without", ...) comes before a recording word ("record", "recorded", "recording") with only
words about the call, the caller or wanting in between: "please don't record this", "I don't
want this call to be recorded", "stop the recording", "I'd prefer not to be recorded".

"Record" the noun, or the verb about something else, is not an objection: "there's no record
of my order", "record my new address", "you don't have a record of my return" (an article or
a noun sits between the negation and the word, or the word is followed by "of" or "in").
Neither is a question about recording ("is this call recorded?", "isn't this recorded?"), nor
consent ("I don't mind being recorded").

German, Spanish, French and Portuguese callers object in their own words
(``voice_agent.dialogue.consent_languages``); ``find_objection`` reads a turn in the call's
language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voice_agent.dialogue import consent_languages

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_JOINING = r"(?:and|but|also|so|then)"
_CLAUSE_BREAK = re.compile(
    rf"[.!?;,]+\s*(?:{_JOINING}\s+)?|\s+{_JOINING}\s+|^{_JOINING}\s+", re.IGNORECASE
)

_OBJECTING = frozenset(
    "don't dont not never no stop quit won't wouldn't shouldn't mustn't can't cannot without "
    "object objection refuse decline off out against delete erase remove".split()
)
"""Words that turn what follows them against recording."""
_OBJECTING_AS_A_WISH = frozenset("wasn't weren't didn't".split())
"""Objecting only as a wish ("I'd rather it wasn't recorded"), not as a fact ("it wasn't
recorded")."""
_WISHING = frozenset("rather prefer wish".split())

_BETWEEN = frozenset(
    "to be being been get getting have having want wanna like wish agree consent consenting "
    "happy comfortable okay ok with about please really just i i'm im am you your rather "
    "prefer would i'd id it this that the call calls conversation me my our us all any "
    "anything of do does can could is was on for going gonna voice whole further anymore "
    "keep continue at need needs see allow let start started turn switch opt should must "
    "kind more".split()
)
"""What may stand between the objection and the recording word: the call, the caller,
wanting and being. An article ("a record"), a noun ("my address") or "mind" does not."""

_MAX_BETWEEN = 7
_OPENING = _BETWEEN | frozenset(
    "we we'd we'll i'll kindly actually would will oh so well um uh sorry yes yeah no hey hi "
    "hello there much sir madam thanks thank said say told mind".split()
)
"""What may open a clause before the objection: the caller speaking of themself, fillers.
Anyone else ("the courier never recorded it") is not the caller objecting."""

_CALL_OBJECTS = frozenset("me us this it that anything calls please thanks thank now".split())
_CALL_NOUNS = frozenset("call calls conversation voice".split())
_DETERMINERS = frozenset("the my our this these your".split())
_NOT_ABOUT_THE_CALL = frozenset(
    "in on as under into onto correctly properly wrongly incorrectly wrong right".split()
)
"""Words after "recorded" that make it about a record kept somewhere ("recorded in your
system", "recorded as delivered"), not about this call."""

_QUESTION_OPENERS = frozenset(
    "is isn't are aren't was wasn't were weren't does doesn't did didn't why how when where "
    "what whether".split()
)
_STOPPED = frozenset("off stopped deleted".split())

_RATHER_NOT = re.compile(
    r"^(?:no\s+)?(?:thanks\s+)?(?:i'?d|i would|i'd much)\s+(?:much\s+)?rather\s+"
    r"(?:not|it\s+(?:wasn'?t|weren'?t)|you\s+(?:didn'?t|don'?t|did\s+not|do\s+not))\b"
)
"""Declining right after the notice, in its own words: "I'd rather it wasn't", "I'd rather
not" (only as the answer to the notice: elsewhere it answers some other question)."""


@dataclass(frozen=True, slots=True)
class Objection:
    rest: str
    """What the caller said besides the objection (empty: the objection was all)."""


def find_objection(text: str, after_notice: bool = False, language: str = "en") -> Objection | None:
    """The objection to recording in ``text``, if there is one; ``after_notice``: the caller's
    first words after hearing the recording notice (where "I'd rather not" declines it);
    ``language``: the call's language (a two-letter code), the one ``text`` is read in."""
    if language != "en":
        return _objection_in(text, after_notice, language)
    pieces = clauses(text)
    objecting = [piece for piece in pieces if objects(piece) or (after_notice and declines(piece))]
    if not objecting:
        return None
    rest = " ".join(piece for piece in pieces if piece not in objecting)
    # "Okay, but don't record me": nothing else to answer.
    said_more = any(word not in _OPENING for word in _words(rest))
    return Objection(rest if said_more else "")


def _objection_in(text: str, after_notice: bool, language: str) -> Objection | None:
    words = consent_languages.BY_LANGUAGE.get(language)
    if words is None:
        known = ", ".join(["en", *consent_languages.BY_LANGUAGE])
        raise ValueError(f"no objection words for language {language!r} (known: {known})")
    units = consent_languages.units(consent_languages.clauses(text, words), words)
    objecting = [
        consent_languages.objects(unit, words)
        or (after_notice and consent_languages.declines(unit, words))
        for unit in units
    ]
    if not any(objecting):
        return None
    kept = (unit for unit, objects in zip(units, objecting, strict=True) if not objects)
    rest = " ".join(clause.text for unit in kept for clause in unit)
    return Objection("" if consent_languages.said_nothing_else(rest, words) else rest)


def clauses(text: str) -> list[str]:
    """``text`` cut at sentence ends, commas and joining words."""
    return [piece.strip() for piece in _CLAUSE_BREAK.split(text) if piece and piece.strip()]


def objects(clause: str) -> bool:
    """Whether one clause objects to the call being recorded."""
    words = _words(clause)
    if not words or words[0] in _QUESTION_OPENERS:
        return False
    return any(
        _recording_word(words, index)
        and (_objection_before(words, index) or _stopped_after(words, index))
        for index in range(len(words))
    )


def declines(clause: str) -> bool:
    return _RATHER_NOT.match(" ".join(_words(clause))) is not None


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def _recording_word(words: list[str], index: int) -> bool:
    """Whether ``words[index]`` is "record" about this call, not a record kept of something."""
    word, after = words[index], words[index + 1 : index + 3]
    if word not in ("record", "recorded", "recording", "recordings", "recorder"):
        return False
    if word == "recorded" and after and after[0] in _NOT_ABOUT_THE_CALL:
        return False
    if after and after[0] == "of":
        after = words[index + 2 : index + 4]  # "a recording of this call", "record of my order"
        if word == "record":
            return False
    if not after:
        return True
    if after[0] in _CALL_OBJECTS or after[0] in _STOPPED:
        return True
    if after[0] in _DETERMINERS:
        return len(after) > 1 and after[1] in _CALL_NOUNS
    # "no recording please", "recorded at all"; not "record my address", "recorded a delivery"
    return word != "record" and after[0] not in ("a", "an")


def _objection_before(words: list[str], index: int) -> bool:
    """An objection word before ``index`` with only call-and-wanting words in between, said
    by the caller of themself."""
    start = max(0, index - _MAX_BETWEEN - 1)
    for position in range(index - 1, start - 1, -1):
        word = words[position]
        opening = words[:position]
        wish = word in _OBJECTING_AS_A_WISH and not _WISHING.isdisjoint(opening)
        if word in _OBJECTING or wish:
            # "no record" is always the noun; "no recording" is the objection.
            noun = word == "no" and position == index - 1 and words[index] == "record"
            return not noun and all(before in _OPENING for before in opening)
        if word not in _BETWEEN:
            return False
    return False


def _stopped_after(words: list[str], index: int) -> bool:
    """ "The recording off, please", "I want the recording stopped"."""
    return words[index].startswith(("recording", "recorder")) and any(
        word in _STOPPED for word in words[index + 1 : index + 3]
    )
