"""The call's language: hinted, else detected on the caller's first turn and confirmed over the
next ones; a caller who switches language is followed from the turn they switch in.

The dialogue only weighs what the recognizer (or, for typed text, the word-based guess) says it
heard; it never detects anything itself. Short turns ("ok", "ja", a number) say too little to
switch on: Whisper's language identification is unreliable below a couple of words.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from babel import Locale

from voice_agent.dialogue.state import DialogueState
from voice_agent.languages import LOCALES, SUPPORTED

MIN_WORDS = 2
"""Turns with fewer words never change the call's language."""
FIRST_GUESS = 0.5
"""A language not yet confirmed gives way to another heard with this probability."""
SWITCH = 0.8
"""A confirmed (or hinted) language gives way only to another heard this surely."""


@dataclass(frozen=True, slots=True)
class Followed:
    state: DialogueState
    """The state with the call's language as it is for this turn's reply."""
    unsupported: str | None = None
    """A language the caller speaks that the deployment does not offer (answered apart)."""


def follow(
    state: DialogueState,
    heard: str | None,
    probability: float,
    words: int,
    offered: tuple[str, ...],
) -> Followed:
    """The call's language after a turn heard as ``heard`` with ``probability``."""
    if heard is None or words < MIN_WORDS:
        return Followed(state)
    if heard == state.language:
        return Followed(replace(state, language_settled=True))
    needed = SWITCH if state.language_settled else FIRST_GUESS
    if probability < needed:
        return Followed(state)
    if heard in offered:
        return Followed(replace(state, language=heard, language_settled=False))
    return Followed(state, unsupported=heard)


def answering_language(unsupported: str) -> str:
    """The language to tell an unsupported caller so in: theirs where the agent has replies
    and a voice for it, else English."""
    from voice_agent.dialogue.replies import LANGUAGES

    return unsupported if unsupported in SUPPORTED and unsupported in LANGUAGES else "en"


def language_names(codes: tuple[str, ...], spoken_in: str) -> list[str]:
    """The languages' names as ``spoken_in`` says them ("Deutsch" -> "German" in English)."""
    locale = Locale.parse(LOCALES.get(spoken_in, spoken_in))
    return [str(locale.languages.get(code, code)) for code in codes]
