"""Guards on the short-window fast path: when its output cannot be trusted.

A short window makes Whisper prone to loops ("yes yes yes ..."). The fast path is guarded
with a token budget and these checks; a failed check sends the utterance to the stock path
(docs/asr-short-window.md: with the recipe's settings the fallback is rare).

A long number is checked once more: the short window sometimes stops short of a long digit
string or drops a digit of it ("plus 4 4 7 7 0 0 9" for thirteen digits said), and nothing
in the text shows it (nor in its word alignment: measured, the aligned words of wrong readings
were no longer than those of right ones). When the dialogue may hear a phone number, a reading
with many digits is compared with the stock path's, which answers when it heard more digits.

Every check works in each language the agent speaks: numbers said as words count as digits in
the transcript's own language (English's number words, the others' by text2num), and a word is
a word whatever its alphabet.
"""

from __future__ import annotations

import re
from enum import Enum

from text_to_num import alpha2digit

from voice_agent.languages import SUPPORTED
from voice_agent.spoken_numbers import DIGIT_WORDS, TEENS, TENS
from voice_agent.stages.asr import Expect
from voice_agent.stages.asr.digits import NUMBER_WORDS_LANGUAGE, spoken_digits_to_text

LOOP_REPEATS = 3
"""An n-gram said this many times in a row is a loop (Whisper's hallmark failure)."""
DIGIT_LOOP_REPEATS = 5
"""One digit repeated needs more: "0 0 0" is a real part of an order number, "0 0 0 0 0" not."""

_WORD = re.compile(r"[\w']+")
_MIN_ECHOED_WORDS = 3
"""A phrase said again at the very end must be this long to count as the decoder's echo."""
_NUMBER_WORDS = frozenset([*DIGIT_WORDS, *TEENS, *TENS])
_WORDS_TO_NUMERALS = frozenset(SUPPORTED) - {NUMBER_WORDS_LANGUAGE}
"""Languages whose number words text2num turns into numerals (English has its own tables)."""
CHECKED_EXPECTATIONS = frozenset({Expect.EMAIL})
"""Hints under which a long number is checked: a phone number is given under Expect.EMAIL (a
call-back contact, an order looked up by phone or e-mail). Not Expect.DIGITS (order numbers):
there the digits prompt steers the short window, and on the tuning sets the stock path read
order numbers worse (12 of 24 exact against 17) for ~420 ms more (asr-long-numbers.md)."""


class FallbackReason(Enum):
    EMPTY = "empty"
    BUDGET = "budget"
    """Decoding stopped at its token budget instead of ending the transcript itself."""
    LOOP = "loop"
    SHORT = "short"
    """A long number the stock path heard more digits of: the short window left some out."""


def words_of(text: str) -> list[str]:
    """Lower-case words; runs of digits are split into single digits ("4567" is 4 5 6 7)."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        words.extend(list(word) if word.isdigit() else [word])
    return words


def repeated_ngrams(words: list[str], times: int = LOOP_REPEATS) -> set[tuple[str, ...]]:
    """Every n-gram that occurs at least `times` times in a row in `words`."""
    found: set[tuple[str, ...]] = set()
    for size in range(1, len(words) // times + 1):
        for start in range(len(words) - size * times + 1):
            gram = tuple(words[start : start + size])
            if all(
                tuple(words[start + k * size : start + (k + 1) * size]) == gram
                for k in range(1, times)
            ):
                found.add(gram)
    return found


def is_loop(text: str, language: str = NUMBER_WORDS_LANGUAGE) -> bool:
    """True when the text repeats itself the way a looping decoder does. A digit said again
    ("fünf fünf fünf" is 5 5 5 in German) has its own, stricter count."""
    words = words_of(_digit_words_as_numerals(text, language))
    for gram in repeated_ngrams(words, LOOP_REPEATS):
        if len(gram) == 1 and gram[0].isdigit():
            continue  # judged below, with the stricter count for a single digit
        return True
    return any(
        len(gram) == 1 and gram[0].isdigit() for gram in repeated_ngrams(words, DIGIT_LOOP_REPEATS)
    )


def fallback_reason(
    text: str, token_count: int, token_budget: int, language: str = NUMBER_WORDS_LANGUAGE
) -> FallbackReason | None:
    """Why the fast path's output must be replaced by the stock path's, or None if it is fine."""
    if not words_of(text):
        return FallbackReason.EMPTY
    if token_count >= token_budget:
        return FallbackReason.BUDGET
    if is_loop(text, language):
        return FallbackReason.LOOP
    return None


def digit_count(text: str, language: str = NUMBER_WORDS_LANGUAGE) -> int:
    """Digits said in `text` (in `language`), written or spoken ("double seven" is two,
    "null eins sieben" three)."""
    return sum(character.isdigit() for character in as_numerals(text, language))


def as_numerals(text: str, language: str) -> str:
    """`text` with its number words as numerals, in the languages whose words are known;
    numerals only are spaced in any other."""
    if language in _WORDS_TO_NUMERALS:
        text = alpha2digit(text, language)
    return spoken_digits_to_text(text, language)


def _digit_words_as_numerals(text: str, language: str) -> str:
    """`text` with the number words of a language other than English as numerals (English
    digit words are judged as words, as the loop check was tuned)."""
    return alpha2digit(text, language) if language in _WORDS_TO_NUMERALS else text


def number_to_confirm(
    text: str, expect: Expect, min_digits: int, language: str = NUMBER_WORDS_LANGUAGE
) -> bool:
    """Whether the fast path's `text` holds a number long enough to be checked by the stock
    path (`min_digits` 0: never)."""
    return 0 < min_digits <= digit_count(text, language) and expect in CHECKED_EXPECTATIONS


def stopped_short(fast_text: str, stock_text: str, language: str = NUMBER_WORDS_LANGUAGE) -> bool:
    """Whether the stock path heard more digits than the short window did, without looping
    (a loop makes digits up: "0 0 0 0 0 0")."""
    more = digit_count(stock_text, language) > digit_count(fast_text, language)
    return more and not is_loop(stock_text, language)


def without_echoed_tail(text: str, language: str = NUMBER_WORDS_LANGUAGE) -> str:
    """`text` without a phrase of 3+ words that the decoder said twice at its very end
    ("... within five working days Within five working day's"): a padded window invites
    Whisper to go on by repeating itself once, which the loop check (3 times) does not see.
    A repeated number is left alone: callers repeat their order numbers."""
    pieces = text.split()
    keys = [_key(piece) for piece in pieces]
    for size in range(len(keys) // 2, _MIN_ECHOED_WORDS - 1, -1):
        tail, before = keys[-size:], keys[-2 * size : -size]
        if tail != before:
            continue
        wordy = sum(not _is_number(piece, language) for piece in pieces[-size:])
        if wordy >= 2:
            return " ".join(pieces[:-size])
    return text


def _key(piece: str) -> str:
    """A word as compared for repetition: "days", "day's" and "Days." are one."""
    return _bare(piece).removesuffix("s")


def _bare(piece: str) -> str:
    return re.sub(r"\W", "", piece.lower())


def _is_number(piece: str, language: str) -> bool:
    """Whether a word is a number: digits, or a number word of `language` ("vier", "dos")."""
    word = _bare(piece)
    if word.isdigit() or word in _NUMBER_WORDS:
        return True
    if language not in _WORDS_TO_NUMERALS or not word:
        return False
    return any(character.isdigit() for character in alpha2digit(word, language, threshold=0))
