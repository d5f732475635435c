"""The scripted dialogues in the caller's language: how callers say numbers, codes and e-mail
addresses in each language (for the placeholders), and how a check reads a reply in each
language (its number words, its function words, its words for "late" or "sorry").

English keeps exactly the forms the English scripts were written with ("four five zero",
"S W one A", "jack dot wilson at example dot com"); the other languages use num2words' digit
words, that language's letter names and its e-mail words ("arroba", "Punkt", "point", "ponto").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from num2words import num2words
from text_to_num import alpha2digit

ENGLISH_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_NUM2WORDS_LOCALE = {"pt": "pt_BR"}
"""num2words' name for the caller's locale where it is not the language code (Brazil's
Portuguese)."""

_LETTER_NAMES: dict[str, str] = {
    # The letters' names as a caller spells them aloud, a to z.
    "de": "a be ce de e ef ge ha i jot ka el em en o pe ku er es te u vau we ix ypsilon zett",
    "es": "a be ce de e efe ge hache i jota ka ele eme ene o pe cu erre ese te u uve "
    "uve_doble equis i_griega zeta",
    "fr": "a bé cé dé e èf gé ache i ji ka èl èm èn o pé ku èr èss té u vé double_vé ix "
    "i_grec zède",
    "pt": "a bê cê dê e éfe gê agá i jota cá éle eme ene o pê quê erre esse tê u vê dáblio "
    "xis ípsilon zê",
}


@dataclass(frozen=True, slots=True)
class EmailWords:
    at: str
    dot: str
    dash: str
    underscore: str


_EMAIL_WORDS = {
    "en": EmailWords("at", "dot", "dash", "underscore"),
    "de": EmailWords("at", "Punkt", "Bindestrich", "Unterstrich"),
    "es": EmailWords("arroba", "punto", "guion", "guion bajo"),
    "fr": EmailWords("arobase", "point", "tiret", "tiret bas"),
    "pt": EmailWords("arroba", "ponto", "hífen", "underline"),
}
_PLUS = {"en": "plus", "de": "plus", "es": "más", "fr": "plus", "pt": "mais"}
"""The word a caller says for the "+" of an international phone number."""


@dataclass(frozen=True, slots=True)
class Spoken:
    """How a caller speaking ``language`` says numbers, codes and e-mail addresses."""

    language: str
    digit_words: tuple[str, ...]
    letter_names: Mapping[str, str]
    """Letter -> its name when spelled; empty for English (the scripts write "a n n")."""
    email_words: EmailWords
    plus: str

    def digits(self, code: str) -> str:
        """Digit by digit: "45067" -> "vier fünf null sechs sieben"."""
        return " ".join(self.digit_words[int(ch)] for ch in code if ch.isdigit())

    def code(self, code: str) -> str:
        """A postcode as a caller reads it, digits in words and letters as capitals (as the
        speech recogniser writes them): "SW1A 1AA" -> "S W eins A eins A A"."""
        return " ".join(
            self.digit_words[int(ch)] if ch.isdigit() else ch.upper() for ch in code if ch.isalnum()
        )

    def spelled(self, letters: str) -> str:
        """Letters spelled by their names: "ann" -> "a en en" (English: "a n n")."""
        return " ".join(self.letter_names.get(ch, ch) for ch in letters.lower() if ch.isalnum())

    def email(self, address: str) -> str:
        """An address said aloud: "anna.schmidt@example.de" -> "anna Punkt schmidt at example
        Punkt de" (English exactly as the English scripts were written)."""
        if self.language == "en":
            return address.replace(".", " dot ").replace("@", " at ")
        said = self.email_words
        spoken = {"@": said.at, ".": said.dot, "-": said.dash, "_": said.underscore}
        parts = re.split(r"([@._-])", address)
        return " ".join(spoken.get(part, part) for part in parts if part)

    def phone(self, digits: str) -> str:
        return f"{self.plus} {self.digits(digits)}"


@cache
def spoken(language: str) -> Spoken:
    """The caller's spoken forms in ``language`` (one of ``voice_agent.languages.SUPPORTED``)."""
    if language == "en":
        return Spoken("en", ENGLISH_DIGITS, {}, _EMAIL_WORDS["en"], _PLUS["en"])
    if language not in _LETTER_NAMES:
        raise ValueError(f"no spoken forms for language {language!r}")
    locale = _NUM2WORDS_LOCALE.get(language, language)
    digits = tuple(str(num2words(value, lang=locale)) for value in range(10))
    names = _LETTER_NAMES[language].split()
    letters = {chr(ord("a") + index): name.replace("_", " ") for index, name in enumerate(names)}
    return Spoken(language, digits, letters, _EMAIL_WORDS[language], _PLUS[language])


# --- reading a reply ----------------------------------------------------------------------------


def fold(text: str) -> str:
    """Accents and umlauts off ("Zölle" -> "Zolle", "alfândega" -> "alfandega"), so a check's
    word matches however the reply writes its accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def digits_in(text: str, language: str) -> str:
    """Number words as digits in ``language`` ("vier fünf null" -> "4 5 0"); English is left
    to the harness's own digit words (its behaviour unchanged)."""
    if language == "en":
        return text
    return str(alpha2digit(text, language))


FUNCTION_WORDS: dict[str, frozenset[str]] = {
    # Short, frequent words of each language (accents folded); a reply in that language holds
    # several of them, whatever it is about.
    "en": frozenset(
        "the a an and or of to in on at for with is are was be been it its this that your you "
        "we i our my can will would have has do not no yes please thank thanks what when "
        "where which how there here from by about if".split()
    ),
    "de": frozenset(
        "der die das den dem des ein eine einen einem einer und oder ist sind war wird werden "
        "ich wir sie ihr ihre ihren ihrem ihnen mit von zu zum zur im in auf fur bei nach aus "
        "nicht kein keine auch noch schon bitte danke gerne es wie was wo wann ob dass hat "
        "haben habe kann konnen mochten gern ja nein sehr".split()
    ),
    "es": frozenset(
        "el la los las un una unos unas y o de del al en con por para es son esta estan ha "
        "han he su sus usted le lo se que como cuando donde no si muy tambien pero ya gracias "
        "favor hay puede puedo necesito mi sobre nos nosotros eso esto estamos este".split()
    ),
    "fr": frozenset(
        "le la les un une des du de et ou est sont a ai avez avons vous votre vos nous je il "
        "elle ce cette ces que qui pour par avec dans sur pas ne plus tres aussi mais oui non "
        "merci bien peut pouvez au aux se sa son mon".split()
    ),
    "pt": frozenset(
        "o a os as um uma uns umas e ou de do da dos das no na nos nas em com por para pelo "
        "pela e sao esta estao foi seu sua seus suas voce voces eu nos que como quando onde "
        "nao sim muito tambem mas ja obrigado obrigada favor pode posso preciso meu minha "
        "ao se esse essa isso isto".split()
    ),
}
"""Function words per language; a word several languages share counts for each of them."""


def language_scores(text: str) -> dict[str, int]:
    """How many of each language's function words ``text`` holds (each occurrence counts)."""
    tokens = re.findall(r"[^\W\d_]+", fold(text).lower())
    return {code: sum(token in words for token in tokens) for code, words in FUNCTION_WORDS.items()}


def replies_in(text: str, language: str) -> bool:
    """Whether ``text`` is in ``language``: at least two of its function words, more of them
    than of English's (when it is not English), and no other language clearly ahead."""
    scores = language_scores(text)
    own = scores[language]
    if own < 2:
        return False
    if language != "en" and scores["en"] >= own:
        return False
    return all(score <= own for score in scores.values())


OVERDUE_WORDS: dict[str, tuple[str, ...]] = {
    # ``flags_overdue`` in the other languages (English: the harness's own OVERDUE_WORDS).
    "de": (
        "verspat*",
        "uberfallig*",
        "verzoger*",
        "verloren*",
        "steckt",
        "feststeck*",
        "festgesteckt",
        "keine bewegung",
        "keinen scan",
        "kein scan",
        "nicht bewegt",
        "langst",
        "zu spat",
        "hangt",
    ),
    "es": (
        "retras*",
        "atras*",
        "perdid*",
        "estancad*",
        "sin movimiento",
        "deberia haber llegado",
        "demora*",
        "parad*",
        "extravi*",
    ),
    "fr": (
        "retard*",
        "perdu*",
        "bloque*",
        "aucun mouvement",
        "aurait du",
        "aucune mise a jour",
        "aucun scan",
        "egare*",
        "immobil*",
    ),
    "pt": (
        "atras*",
        "perdid*",
        "parad*",
        "sem movimenta*",
        "deveria ter chegado",
        "demora*",
        "extravi*",
        "sem atualiza*",
    ),
}
ACKNOWLEDGE_WORDS: dict[str, tuple[str, ...]] = {
    "de": ("tut mir leid", "tut uns leid", "entschuldig*", "verstehe*", "bedauer*", "arger*"),
    "es": ("lo siento", "lo sentimos", "disculp*", "entiendo", "lament*", "perdon*"),
    "fr": ("desole*", "excus*", "comprends", "navre*", "regrett*"),
    "pt": ("desculp*", "sinto muito", "sentimos muito", "entendo", "lament*"),
}

PROMISES: dict[str, re.Pattern[str]] = {
    # What the agent cannot do itself, said as done (English: the harness's own pattern);
    # matched on the reply's words, lower case, accents folded.
    "de": re.compile(
        r"\b(?:ich|wir) (?:habe|haben) (?:ihnen )?(?:\w+ ){0,3}"
        r"(?:erstattet|zuruckerstattet|storniert|zugeschickt|geschickt|gemailt|gutgeschrieben)\b"
        r"|\bihre bestellung (?:wurde|ist) (?:jetzt )?storniert\b"
    ),
    "es": re.compile(
        r"\b(?:le |les )?(?:he|hemos) (?:reembolsado|cancelado su pedido|enviado|abonado)\b"
        r"|\bsu pedido (?:ha sido|fue|esta) cancelado\b"
    ),
    "fr": re.compile(
        r"\b(?:je vous ai|nous vous avons) (?:rembourse|envoye|credite)\b"
        r"|\bvotre commande (?:a ete|est) annulee\b"
    ),
    "pt": re.compile(
        r"\b(?:eu )?(?:te |lhe )?(?:reembolsei|enviei|creditei|cancelei o seu pedido|"
        r"cancelei seu pedido)\b"
        r"|\b(?:o )?seu pedido (?:foi|esta) cancelado\b"
    ),
}


def folded_words(text: str) -> str:
    """Lower case, accents folded, every run of non-word characters one space."""
    return re.sub(r"[\W_]+", " ", fold(text).lower()).strip()
