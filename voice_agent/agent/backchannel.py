"""Is what the caller said over the agent a backchannel ("mm-hm", "okay") or an interruption?

Whisper writes short vocalisations unreliably ("MMMMMMM", "Uh uh", even "The F" for "yeah"), so
words alone do not decide: a short sound that holds none of the words people use to take the
floor ("no", "wait", "stop", "sorry", ...) lets the reply go on when it is at most a couple of
words or when the recogniser itself was unsure of it (hums come out as "I'm at camp", at a
confidence that real short sentences do not fall to).
"""

from __future__ import annotations

import re

from voice_agent.settings import BargeInSettings

_WORDS = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_HUMMING = re.compile(r"^[mhu]+(?:-[mhu]+)*$")


class BackchannelJudge:
    def __init__(self, settings: BargeInSettings) -> None:
        self._backchannels = frozenset(b.lower() for b in settings.backchannels)
        self._floor_words = frozenset(w.lower() for w in settings.floor_words)
        self._max_words = settings.backchannel_max_words
        self._longest_s = settings.longest_backchannel_ms / 1000
        self._unsure = settings.unsure_confidence

    def is_backchannel(self, text: str, speech_s: float, confidence: float = 1.0) -> bool:
        """True when the sound over the reply should let it resume."""
        if speech_s > self._longest_s:
            return False
        words = _WORDS.findall(text.lower())
        if not words:
            return True  # a noise, a breath, a cough
        if any(word in self._floor_words for word in words):
            return False
        if " ".join(words) in self._backchannels:
            return True
        if all(word in self._backchannels or _HUMMING.match(word) for word in words):
            return True
        return len(words) <= self._max_words or confidence < self._unsure
