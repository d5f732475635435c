"""Guards on the short-window fast path: when its output cannot be trusted.

A short window makes Whisper prone to loops ("yes yes yes ..."). The fast path is guarded
with a token budget and these checks; a failed check sends the utterance to the stock path
(notes/asr-short-window.md: with the recipe's settings the fallback is rare).
"""

from __future__ import annotations

import re
from enum import Enum

from voice_agent.spoken_numbers import DIGIT_WORDS, TEENS, TENS

LOOP_REPEATS = 3
"""An n-gram said this many times in a row is a loop (Whisper's hallmark failure)."""
DIGIT_LOOP_REPEATS = 5
"""One digit repeated needs more: "0 0 0" is a real part of an order number, "0 0 0 0 0" not."""

_WORD = re.compile(r"[\w']+")
_MIN_ECHOED_WORDS = 3
"""A phrase said again at the very end must be this long to count as the decoder's echo."""
_NUMBER_WORDS = frozenset([*DIGIT_WORDS, *TEENS, *TENS])


class FallbackReason(Enum):
    EMPTY = "empty"
    BUDGET = "budget"
    """Decoding stopped at its token budget instead of ending the transcript itself."""
    LOOP = "loop"


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


def is_loop(text: str) -> bool:
    """True when the text repeats itself the way a looping decoder does."""
    words = words_of(text)
    for gram in repeated_ngrams(words, LOOP_REPEATS):
        if len(gram) == 1 and gram[0].isdigit():
            continue  # judged below, with the stricter count for a single digit
        return True
    return any(
        len(gram) == 1 and gram[0].isdigit() for gram in repeated_ngrams(words, DIGIT_LOOP_REPEATS)
    )


def fallback_reason(text: str, token_count: int, token_budget: int) -> FallbackReason | None:
    """Why the fast path's output must be replaced by the stock path's, or None if it is fine."""
    if not words_of(text):
        return FallbackReason.EMPTY
    if token_count >= token_budget:
        return FallbackReason.BUDGET
    if is_loop(text):
        return FallbackReason.LOOP
    return None


def without_echoed_tail(text: str) -> str:
    """`text` without a phrase of 3+ words that the decoder said twice at its very end
    ("... within five working days Within five working day's"): a padded window invites
    Whisper to go on by repeating itself once, which the loop check (3 times) does not see.
    A repeated number is left alone: callers repeat their order numbers."""
    pieces = text.split()
    keys = [_key(piece) for piece in pieces]
    for size in range(len(keys) // 2, _MIN_ECHOED_WORDS - 1, -1):
        tail, before = keys[-size:], keys[-2 * size : -size]
        wordy = sum(key not in _NUMBER_WORDS and not key.isdigit() for key in tail)
        if tail == before and wordy >= 2:
            return " ".join(pieces[:-size])
    return text


def _key(piece: str) -> str:
    """A word as compared for repetition: "days", "day's" and "Days." are one."""
    return re.sub(r"\W", "", piece.lower()).removesuffix("s")
