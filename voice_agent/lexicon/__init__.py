"""Callers' words in German, Spanish, French and Portuguese, in the form the dialogue's entity
parsers read (``voice_agent.dialogue.entities`` knows English only).

``canonical(text, language)`` rewrites closed-class words only: number words become digits,
letter names letters, e-mail words "at"/"dot", yes/no/unsure words "yes"/"no"/"not sure",
corrections "no, i mean", the keywords verification looks for ("Postleitzahl" -> "postcode"),
months, weekdays and relative days English names. Product names, streets and free text keep
their words. The intent classifier reads the caller's own text; the parsers read this.

``text_language(text, offered)`` guesses a typed turn's language from its words (the
recognizer uses it too, to check a transcript reads as the language it was decoded in): pure
text, below both the stages and the dialogue, as ``voice_agent.spoken_numbers`` is.
"""

from __future__ import annotations

from voice_agent.lexicon import de, es, fr, pt
from voice_agent.lexicon.guess import text_language
from voice_agent.lexicon.rewrite import rewrite
from voice_agent.lexicon.table import Lexicon

LEXICONS: dict[str, Lexicon] = {
    "de": de.LEXICON,
    "es": es.LEXICON,
    "fr": fr.LEXICON,
    "pt": pt.LEXICON,
}


def canonical(text: str, language: str) -> str:
    """``text`` as the English entity parsers read it; English text is returned unchanged.
    A language without a lexicon is a clear error, not a silent English reading."""
    if language == "en":
        return text
    lexicon = LEXICONS.get(language)
    if lexicon is None:
        raise ValueError(f"no lexicon for language {language!r} (have en, {', '.join(LEXICONS)})")
    return rewrite(text, lexicon)


__all__ = ["LEXICONS", "Lexicon", "canonical", "text_language"]
