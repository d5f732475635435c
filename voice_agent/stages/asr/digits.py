"""Spoken digits to written digits, for turns where the dialogue expects a number.

Whisper writes digit strings in many ways: "four five six", "456", "4, 5, 6", "double seven",
"0 to 1" (a "two" heard as "to"). When the dialogue expects digits (order numbers, postcodes,
phone digits), ``spoken_digits_to_text`` rewrites every digit run as single spaced digits:
"My order number is four five six, double seven." -> "My order number is 4 5 6 7 7."
Words that only sound like digits ("to", "for", "ate", "oh") become digits only between
other digits, so ordinary words around the number stay as they were.

Number words are English. In another language only numerals are rewritten ("456" -> "4 5 6"):
its words are left alone, for English words would corrupt it (Spanish "o" is "or", "ten" is
"have"; French "six" is a number only in French) and the dialogue reads those languages'
number words itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voice_agent.spoken_numbers import DIGIT_WORDS, REPEATS, SOUNDALIKES, TEENS, TENS

_UNITS = DIGIT_WORDS
_TEENS = TEENS
_TENS = TENS
_REPEATS = REPEATS
_SOUNDALIKES = {"oh": "0", "o": "0", **SOUNDALIKES}
"""Words heard for a digit; trusted only between digits (or, for "oh", next to one)."""
_TRAILING = ",.;:!?"
_DIGIT_HYPHEN = re.compile(r"(?<=\d)-(?=\d)")


@dataclass(slots=True)
class _Token:
    text: str
    """The word as written (kept when it is not part of a number)."""
    digits: str = ""
    """Its digits, when it is a number (one character per spoken digit)."""
    repeat: int = 0
    """2 for "double", 3 for "triple"."""
    soundalike: str = ""
    trailing: str = ""
    """Punctuation that followed it."""


NUMBER_WORDS_LANGUAGE = "en"
"""The language whose number words are rewritten as digits."""


def spoken_digits_to_text(text: str, language: str = NUMBER_WORDS_LANGUAGE) -> str:
    """`text` with every spoken or written digit run rewritten as single spaced digits
    (spoken: English only; numerals in any `language`)."""
    return rewrite_digits(text, language)[0]


def rewrite_digits(text: str, language: str = NUMBER_WORDS_LANGUAGE) -> tuple[str, bool]:
    """`text` with every digit run as single spaced digits, and whether any digit was inferred
    rather than heard as one: a soundalike word taken for a digit ("to", "for", "oh"), a
    repeat expanded ("double seven"), or a number word split into digits ("forty two",
    "fifteen"). Plain digit words and numerals ("four five six", "456") are not inferred.
    Text in another `language` than English has only its numerals rewritten."""
    tokens = _tokens(text, words=language == NUMBER_WORDS_LANGUAGE)
    tokens = _expand_repeats(_accept_soundalikes(_join_tens(tokens)))
    inferred = any(_inferred(token) for token in tokens)
    out: list[str] = []
    for index, token in enumerate(tokens):
        if not token.digits:
            out.append(token.text + token.trailing)
            continue
        run_goes_on = index + 1 < len(tokens) and bool(tokens[index + 1].digits)
        # Commas inside a digit run are Whisper's grouping ("7, 7, 3"), not the caller's.
        out.append(" ".join(token.digits) + ("" if run_goes_on else token.trailing))
    return " ".join(out), inferred


def _inferred(token: _Token) -> bool:
    if not token.digits:
        return False
    heard_as = token.text if token.text.isdigit() else str(_UNITS.get(token.text.lower(), ""))
    return token.digits != heard_as


def _tokens(text: str, words: bool) -> list[_Token]:
    """The words of `text`, numerals with their digits; with `words`, English number words,
    repeats and soundalikes marked too."""
    tokens: list[_Token] = []
    # English hyphens join number words ("forty-two"); elsewhere they join words that must
    # stay whole ("quarante-sept" is the dialogue's to read), so only digits are parted there.
    parted = text.replace("-", " ") if words else _DIGIT_HYPHEN.sub(" ", text)
    for raw in parted.split():
        core = raw.rstrip(_TRAILING)
        if not core:
            if tokens:
                tokens[-1].trailing += raw
            continue
        token = _Token(core, trailing=raw[len(core) :])
        word = core.lower()
        if core.isdigit():
            token.digits = core
        elif not words:
            pass
        elif word in _UNITS:
            token.digits = str(_UNITS[word])
        elif word in _TEENS:
            token.digits = str(_TEENS[word])
        elif word in _TENS:
            token.digits = str(_TENS[word])
        elif word in _REPEATS:
            token.repeat = _REPEATS[word]
        elif word in _SOUNDALIKES:
            token.soundalike = _SOUNDALIKES[word]
        tokens.append(token)
    return tokens


def _join_tens(tokens: list[_Token]) -> list[_Token]:
    """ "forty two" is 4 2, not 4 0 2."""
    joined: list[_Token] = []
    for token in tokens:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and previous.text.lower() in _TENS
            and not previous.trailing
            and len(token.digits) == 1
            and token.digits != "0"
        ):
            previous.digits = previous.digits[0] + token.digits
            previous.trailing = token.trailing
            continue
        joined.append(token)
    return joined


def _accept_soundalikes(tokens: list[_Token]) -> list[_Token]:
    for index, token in enumerate(tokens):
        if not token.soundalike:
            continue
        before = index > 0 and bool(tokens[index - 1].digits) and not tokens[index - 1].trailing
        after = index + 1 < len(tokens) and bool(
            tokens[index + 1].digits or tokens[index + 1].repeat
        )
        beside_one = (before or after) and not token.trailing
        if (before and after) or (token.soundalike == "0" and beside_one):
            token.digits = token.soundalike
    return tokens


def _expand_repeats(tokens: list[_Token]) -> list[_Token]:
    """ "double seven" is 7 7; a "double" not followed by a digit stays a word."""
    expanded: list[_Token] = []
    for token in tokens:
        held = expanded[-1] if expanded else None
        if held is not None and held.repeat and not held.trailing and token.digits:
            expanded[-1] = _Token(
                token.text, token.digits[0] * held.repeat + token.digits[1:], 0, "", token.trailing
            )
            continue
        expanded.append(token)
    return expanded
