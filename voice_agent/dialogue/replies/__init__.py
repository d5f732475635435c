"""What the agent says, per language: a template table and the spoken forms of numbers, dates,
money and times.

A language is one module here (``en.py``) holding ``TEMPLATES`` (message key -> one sentence,
``str.format`` fields) and a ``Speech`` subclass for what differs in how it is said. Adding a
language: copy ``en.py``, translate every template (a test checks the keys and fields match
English), adjust the spoken forms, register it in ``LANGUAGES``, and translate the policy file's
own texts under ``[said.<code>]`` in config/policies.toml (a test checks the shipped file).
Where a number agrees with its noun or a preposition merges with an article ("una hora", "al
Reino Unido"), build on ``agreement.AgreeingSpeech`` (es.py, pt.py).
"""

from __future__ import annotations

import functools
import logging
import string
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.numbers import get_currency_name
from num2words import num2words

logger = logging.getLogger(__name__)


class LanguageError(Exception):
    """No replies exist for the language asked for."""


class Speech:
    """Spoken forms through Babel and num2words; subclasses change what their language says
    differently. Everything returns text a speech synthesizer reads naturally."""

    def __init__(self, code: str, templates: Mapping[str, str]) -> None:
        self.code = code
        self.templates = templates
        self.locale = Locale.parse(code)

    def say(self, key: str, **values: Any) -> str:
        """The template ``key`` with its fields filled in (a missing key is a bug: KeyError)."""
        return self.templates[key].format(**values)

    def digits(self, number: str) -> str:
        """Digit by digit, with a pause between: "4567" -> "four, five, six, seven"."""
        return ", ".join(self.digit(ch) for ch in number if ch.isdigit())

    def digit(self, ch: str) -> str:
        return str(num2words(int(ch), lang=self.code))

    def spell(self, code: str) -> str:
        """A postcode or code letter by letter: "SW1A 1AA" -> "S W one A, one A A"."""
        groups = code.split()
        spoken = (
            " ".join(
                self.digit(ch) if ch.isdigit() else self.letter(ch) for ch in group if ch.isalnum()
            )
            for group in groups
        )
        return ", ".join(spoken)

    def letter(self, ch: str) -> str:
        """A letter as the synthesizer should say it (its name where the capital alone is
        read wrongly: Spanish "uve doble" for W)."""
        return ch.upper()

    def number(self, value: int) -> str:
        return str(value)

    def date(self, day: date) -> str:
        return str(format_date(day, "EEEE, d MMMM", locale=self.locale))

    def time(self, moment: datetime) -> str:
        pattern = "h a" if moment.minute == 0 else "h:mm a"
        return str(format_time(moment, pattern, locale=self.locale))

    def money(self, amount: Decimal, currency: str) -> str:
        major = int(amount)
        minor = int((amount - major) * 100)
        name = get_currency_name(currency, count=major, locale=self.locale)
        return f"{major} {name}" + (f" {minor:02d}" if minor else "")

    def join(self, items: Sequence[str]) -> str:
        return str(format_list(list(items), style="standard", locale=self.locale))

    def join_or(self, items: Sequence[str]) -> str:
        return str(format_list(list(items), style="or", locale=self.locale))

    def country(self, code: str) -> str:
        return str(self.locale.territories.get(code.upper(), code))

    def days(self, count: int) -> str:
        return self.say("unit.day" if count == 1 else "unit.days", count=count)

    def hours(self, count: int) -> str:
        return self.say("unit.hour" if count == 1 else "unit.hours", count=count)


def template_fields(template: str) -> set[str]:
    """The ``str.format`` field names a template uses."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


@functools.cache
def language(code: str) -> Speech:
    """The replies for ``code`` ("en", "de", "es", "fr", "pt"); LanguageError names the
    languages there are. One ``Speech`` per language, made once: the engine asks for a call's
    every turn."""
    from voice_agent.dialogue.replies import de, en, es, fr, pt

    languages: dict[str, Speech] = {
        "en": en.English(),
        "de": de.German(),
        "es": es.Spanish(),
        "fr": fr.French(),
        "pt": pt.Portuguese(),
    }
    if code not in languages:
        known = ", ".join(sorted(languages))
        raise LanguageError(f"no dialogue replies for language {code!r} (available: {known})")
    return languages[code]


LANGUAGES = ("en", "de", "es", "fr", "pt")
