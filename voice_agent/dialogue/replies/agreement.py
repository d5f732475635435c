"""Filling templates in languages whose words agree with their neighbours (Spanish, Portuguese).

English can drop "3" into "{count} days" and a name after "in"; Spanish and Portuguese cannot:
a number takes the gender of the noun after it ("una hora", "un día"; "duas horas", "dois
dias"), and a preposition merges with the article that starts the value after it ("a el Reino
Unido" -> "al Reino Unido", "em a Alemanha" -> "na Alemanha"). ``AgreeingSpeech`` fills each
field knowing its neighbours; a language says how its numbers and prepositions behave.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from typing import Any

from babel import Locale

from voice_agent.dialogue.replies import Speech

_FORMATTER = string.Formatter()

_NEXT_WORD = re.compile(r"^\s*([^\W\d_]+)")
_LAST_WORD = re.compile(r"(?:^|(?<=\s))([^\W\d_]+) $")


class AgreeingSpeech(Speech):
    """A ``Speech`` whose ``say`` reads counts as words that agree with the noun after them,
    and lets a preposition merge with the value after it. Subclasses give ``cardinal`` and
    ``merge``; their templates put a count right before its noun ("{count} horas")."""

    feminine_nouns: frozenset[str] = frozenset()
    """The nouns (lower case, singular and plural) after which a count is said feminine."""
    function_words: frozenset[str] = frozenset()
    """Words that are no noun: a count before one stands alone ("de uno a tres días")."""

    def __init__(self, code: str, locale: str, templates: Mapping[str, str]) -> None:
        super().__init__(code, templates)
        self.locale = Locale.parse(locale)

    def say(self, key: str, **values: Any) -> str:
        """The template ``key`` with its fields filled in; a count (an int, or a string of
        digits) becomes words agreeing with the noun that follows it in the template."""
        pieces = _pieces(self.templates[key])
        spoken: list[str] = []
        for index, (literal, field, spec) in enumerate(pieces):
            spoken.append(literal)
            if field is None:
                continue
            value = values[field]
            after = pieces[index + 1][0] if index + 1 < len(pieces) else ""
            text = self._count(value, after) if _is_count(value) else format(value, spec or "")
            spoken[-1], text = self.merge(spoken[-1], text)
            spoken.append(text)
        return "".join(spoken)

    def _count(self, value: int | str, after: str) -> str:
        found = _NEXT_WORD.match(after)
        noun = None if found is None else found.group(1).lower()
        if noun is None or noun in self.function_words:
            return self.cardinal(int(value), None)
        return self.cardinal(int(value), noun in self.feminine_nouns)

    def cardinal(self, value: int, feminine: bool | None) -> str:
        """``value`` in words before a feminine noun (True), a masculine one (False) or none
        (None)."""
        raise NotImplementedError

    def merge(self, before: str, value: str) -> tuple[str, str]:
        """The text before a field and the field's value, with a preposition ending ``before``
        merged into an article starting ``value`` where the language does that."""
        return before, value


@functools.cache
def _pieces(template: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """A template's (text, field, format spec) pieces, parsed once."""
    return tuple((text, field, spec) for text, field, spec, _ in _FORMATTER.parse(template))


def _is_count(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, str) and value.isascii() and value.isdigit()


def last_word(text: str) -> re.Match[str] | None:
    """The word ending ``text`` right before a field ("... en " -> "en"), if any."""
    return _LAST_WORD.search(text)
