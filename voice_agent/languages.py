"""The languages the agent speaks, and how a hint names one.

A language is a two-letter ISO 639-1 code. ``SUPPORTED`` are those with replies, intent
exemplars, number words and a voice; a deployment offers some of them
(``settings.languages.offered``). Portuguese means Brazilian Portuguese (pt-BR): its replies,
voice and spoken forms are Brazil's.
"""

from __future__ import annotations

import re

SUPPORTED = ("en", "de", "es", "fr", "pt")

NAMES = {
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "pt": "Português",
}
"""Each language's name in itself, for the web page's menu and the desk."""

LOCALES = {"en": "en_US", "de": "de_DE", "es": "es_ES", "fr": "fr_FR", "pt": "pt_BR"}
"""The Babel / num2words locale each language's replies are spoken in."""

_TAG = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*$")


def language_of_tag(tag: str | None) -> str | None:
    """The two-letter code of a language tag ("pt-BR", "de_DE", "EN", "fr-CA" -> "pt", "de",
    "en", "fr"), or None for nothing or something that is not a tag."""
    if not tag:
        return None
    match = _TAG.match(tag)
    if match is None:
        return None
    code = match.group(1).lower()
    return code if len(code) == 2 else None


def offered_hint(tag: str | None, offered: tuple[str, ...]) -> str | None:
    """A hint's language when the deployment offers it, else None (the caller's language is
    then detected, or the default used)."""
    code = language_of_tag(tag)
    return code if code in offered else None


def language_for_number(dialled: str | None, by_number: dict[str, str]) -> str | None:
    """The language of calls to the number dialled (``languages.by_number``); numbers compare
    by their digits only ("+49 30 123456" is "4930123456")."""
    if not dialled or not by_number:
        return None
    digits = "".join(ch for ch in dialled if ch.isdigit())
    for number, language in by_number.items():
        if digits and "".join(ch for ch in number if ch.isdigit()) == digits:
            return language
    return None
