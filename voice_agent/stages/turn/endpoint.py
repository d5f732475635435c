"""Endpointing by pause length and text completeness, adapted to what the dialogue expects.

The VAD reports a pause quickly (short hangover); the speculative transcript of the speech so
far is then judged: a complete-sounding sentence commits after a short hold, a sentence that
trails off ("my order number is", "and ...") or an unfinished entity (digits, an e-mail) holds
the turn longer, so callers who pause mid-number are not cut off. Whether an entity is
unfinished is the dialogue's call when it can make it (it knows an order number's length, and
that "no thanks, goodbye" answers otherwise); without one, text that stops on a digit or a
spelled letter is taken to go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from voice_agent.settings import TurnSettings
from voice_agent.spoken_numbers import DIGIT_WORDS, REPEATS, SOUNDALIKES, TEENS, TENS
from voice_agent.stages.asr import Expect

_TRAILING_WORDS = frozenset(
    "and or but so because um uh er erm the a an my your our is are was were to of for with "
    "at in on from it's its that which then like".split()
)
_WORD = re.compile(r"[a-z0-9'@.-]+")
_DICTATION_WORDS = frozenset(
    [*DIGIT_WORDS, *TEENS, *TENS, *REPEATS, *SOUNDALIKES, "oh", "o", "at", "dot", "underscore"]
)
"""Words a caller giving digits or spelling an address may stop on before going on."""
_STALLING = re.compile(
    r"\b(let me (see|check|think|look|find it)|hold on|hang on|just a (sec|second|moment|minute)"
    r"|(one|wait a) (sec|second|moment|minute))(,? please)?\W*$"
)
"""A caller fetching their order number says so, then pauses: the turn is not over."""
_ANNOUNCING = re.compile(r"\b(order|phone|tracking|reference) number\W*$")
"""Callers name the number they are about to give, then pause ("it's order number ...")."""

Completeness = Callable[[str], bool | None]
"""Says whether text holds a complete answer for what is expected (None: cannot tell)."""


class Endpointer:
    def __init__(self, settings: TurnSettings) -> None:
        self._settings = settings

    def hold(self, expect: Expect, text: str, entity_complete: bool | None = None) -> float:
        """Seconds of silence after the speech before the turn is committed."""
        if not text.strip():
            return self._settings.hold_incomplete_s
        if expect in (Expect.DIGITS, Expect.EMAIL) and (
            entity_complete is False
            or (entity_complete is None and (dictating(text) or trails_off(text)))
        ):
            if expect is Expect.DIGITS:
                return self._settings.hold_digits_s
            return self._settings.hold_email_s
        if trails_off(text):
            return self._settings.hold_incomplete_s
        if expect is Expect.YES_NO:
            return self._settings.hold_yes_no_s
        return self._settings.hold_complete_s


def dictating(text: str) -> bool:
    """Text that stops on a digit, a number word or a spelled letter: an entity may go on
    ("it's four seven seven ..."); a sentence that says something else ("no thanks, goodbye")
    does not wait for one."""
    words = _WORD.findall(text.lower())
    if not words:
        return False
    last = words[-1].strip(".-'")
    return last.isdigit() or len(last) == 1 or last in _DICTATION_WORDS


def trails_off(text: str) -> bool:
    """A sentence that stops on a word that cannot end it ("my order number is")."""
    words = _WORD.findall(text.lower())
    if not words:
        return True
    stripped = text.rstrip()
    lowered = stripped.lower()
    if stripped.endswith((",", "...", "-", "—")) or _STALLING.search(lowered):
        return True
    if _ANNOUNCING.search(lowered):
        return True
    return words[-1].strip(".-") in _TRAILING_WORDS
