"""Keypad entry: the keys a caller types, collected into the one answer they make together.

A phone line delivers each key as an event of its own, but the dialogue wants the entry
("47700#") as one turn. Keys are collected until "#" (the caller says they are done) or until
no key has come for `dtmf_pause_s` (they stopped typing). That pause is a timer, which is why
the entry is a machine of its own: the timer is just the time of the last key, compared with
times the session passes in on every frame, so the rule is tested without a clock or a call.
"""

from __future__ import annotations

from voice_agent.agent.ports import DtmfInput


class KeypadEntry:
    def __init__(self, pause_s: float) -> None:
        self._pause_s = pause_s
        self._digits = ""
        self._first_at = 0.0
        self._last_key_at = 0.0

    def press(self, keys: DtmfInput, now: float) -> DtmfInput | None:
        """Take the keys of one event (typed at `keys.at`, received at `now`). Returns the
        whole entry, timed by its first key, when these keys end it with "#"."""
        self._digits += keys.digits
        # 0.0 reads as "no key yet": an entry begun at Clock time 0.0 exactly is timed by its
        # second key.
        self._first_at = self._first_at or keys.at
        self._last_key_at = now
        return self._take() if "#" in keys.digits else None

    def due(self, now: float) -> DtmfInput | None:
        """The entry once no key has come for the pause (asked on every frame); None while
        the caller may still be typing, or when nothing was typed."""
        if self._digits and now - self._last_key_at >= self._pause_s:
            return self._take()
        return None

    def _take(self) -> DtmfInput:
        entry = DtmfInput(self._digits, self._first_at)
        self._digits, self._first_at = "", 0.0
        return entry
