"""Reply text cut into short clauses, the unit Piper synthesizes (it renders whole sentences only).

Cuts fall at sentence ends, commas, semicolons, colons and dashes; a clause still longer than
the limit is cut at word boundaries, and the first clause of a reply is kept shorter still so
its audio comes fast. Tokens are whitespace-separated words, so "3.5", "1,200" and "10:30"
never split; known abbreviations ("Mr.", "z.B.", "Sra.") and initials ("J.", "U.S.") end no
clause. Each supported language has its own abbreviations and function words (a cut never leaves
"the", "der", "la" or "o" dangling); the dialogue already spells numbers as words in its language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

MIN_TAIL_WORDS = 2
"""A word-boundary cut leaves at least this many words behind it (no lone trailing word)."""


@dataclass(frozen=True, slots=True)
class _Language:
    """What cutting and reading a reply needs to know of its language."""

    abbreviations: frozenset[str]
    """Lower-case words with a dot that end no clause ("Mr.", "z.B.", "Sra.")."""
    binds_forward: frozenset[str]
    """A cut right after these leaves them dangling ("ship to | Berlin", "the | parcel")."""
    starts_phrase: frozenset[str]
    """A cut right before these falls at a natural phrase boundary."""
    titles: dict[str, str]
    """Abbreviations spelled out for espeak, which ends a sentence at their dot."""
    number_sign: re.Pattern[str]
    """"No. 5", "Nr. 5", "n° 5": the abbreviation, read as its language's word for number."""
    number_word: str


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LANGUAGES: dict[str, _Language] = {
    "en": _Language(
        abbreviations=_words(
            "mr. mrs. ms. dr. prof. st. jr. sr. no. nos. vs. etc. e.g. i.e. approx. inc. ltd. "
            "co. corp. dept. ca. fig. vol. ref. tel. mt."
        ),
        binds_forward=_words(
            "a an the to of in on at by for with from into onto about my your our their his "
            "her its this these those and or but nor than as per very not no mr mrs ms dr i we "
            "you it is are was were be will can could would should may might must do does did "
            "have has had i'm i'll we'll you'll it's that's there's"
        ),
        starts_phrase=_words(
            "and or but so because since which who that if when while where after before until "
            "unless then to in on at for with from by within about into via once"
        ),
        titles={"mr.": "Mister", "mrs.": "Missus", "ms.": "Miz", "dr.": "Doctor"},
        number_sign=re.compile(r"\b[Nn]o\.(?=\s*\d)"),
        number_word="number",
    ),
    "de": _Language(
        abbreviations=_words(
            "hr. fr. dr. prof. nr. str. tel. ca. bzw. usw. etc. z.b. d.h. u.a. v.a. ggf. evtl. "
            "inkl. zzgl. bspw. mwst. st. abs. max. min. vgl."
        ),
        binds_forward=_words(
            "der die das den dem des ein eine einen einem einer eines zu zum zur von vom in im an "
            "am auf aus bei mit nach für über unter um vor bis durch ohne gegen und oder aber "
            "sondern als wie nicht kein keine ihr ihre ihren ihrem ihres mein meine unser unsere "
            "sehr ich wir sie es ist sind war waren wird werden kann können soll sollte muss "
            "hat haben habe herr frau"
        ),
        starts_phrase=_words(
            "und oder aber denn weil da dass ob wenn als während wo nachdem bevor bis damit "
            "sobald sodass dann also mit für bei innerhalb über"
        ),
        titles={
            "hr.": "Herr",
            "fr.": "Frau",
            "dr.": "Doktor",
            "nr.": "Nummer",
            "z.b.": "zum Beispiel",
            "usw.": "und so weiter",
            "ca.": "circa",
            "bzw.": "beziehungsweise",
            "inkl.": "inklusive",
            "zzgl.": "zuzüglich",
            "ggf.": "gegebenenfalls",
        },
        number_sign=re.compile(r"\b[Nn]r\.(?=\s*\d)"),
        number_word="Nummer",
    ),
    "es": _Language(
        abbreviations=_words(
            "sr. sra. srta. dr. dra. d. dña. núm. nº. no. ud. uds. etc. aprox. tel. pág. av. "
            "avda. c/. máx. mín. p.ej."
        ),
        binds_forward=_words(
            "el la los las un una unos unas lo al del de a en con por para sin sobre entre "
            "hasta desde hacia y o e u pero que como no su sus mi mis tu tus nuestro nuestra "
            "muy yo usted nosotros es son está están fue será puede pueden debe ha han he "
            "señor señora"
        ),
        starts_phrase=_words(
            "y o pero porque ya que si cuando mientras donde después antes hasta aunque "
            "entonces así con para por en dentro sobre"
        ),
        titles={
            "sr.": "señor",
            "sra.": "señora",
            "srta.": "señorita",
            "dr.": "doctor",
            "dra.": "doctora",
            "núm.": "número",
            "ud.": "usted",
            "uds.": "ustedes",
            "aprox.": "aproximadamente",
        },
        number_sign=re.compile(r"(?:\b[Nn]úm\.|\b[Nn]\.?º)(?=\s*\d)"),
        number_word="número",
    ),
    "fr": _Language(
        abbreviations=_words(
            "m. mm. mme. mlle. dr. n°. no. etc. env. tél. av. bd. cf. p.ex. max. min. st. ste."
        ),
        binds_forward=_words(
            "le la les l' un une des du de d' au aux à en dans sur sous avec pour par sans "
            "chez vers entre et ou mais que qu' ne pas votre vos notre nos mon ma mes son sa "
            "ses très je nous vous il elle on est sont était sera peut pouvez doit a ont ai "
            "monsieur madame"
        ),
        starts_phrase=_words(
            "et ou mais donc car parce puisque si quand lorsque pendant où après avant "
            "jusqu'à afin alors avec pour par dans sous dès"
        ),
        titles={
            "m.": "Monsieur",
            "mme": "Madame",
            "mme.": "Madame",
            "mlle": "Mademoiselle",
            "mlle.": "Mademoiselle",
            "dr": "docteur",
            "dr.": "docteur",
            "env.": "environ",
            "tél.": "téléphone",
        },
        number_sign=re.compile(r"(?:\b[Nn]°|\b[Nn]o\.?)(?=\s*\d)"),
        number_word="numéro",
    ),
    "pt": _Language(
        abbreviations=_words(
            "sr. sra. srta. dr. dra. nº. n.º no. núm. etc. aprox. tel. av. pág. ltda. máx. "
            "mín. p.ex. v.ex.ª"
        ),
        binds_forward=_words(
            "o a os as um uma uns umas ao aos à às do da dos das de no na nos nas em com por "
            "pelo pela para sem sobre entre até desde e ou mas que como não seu sua seus suas "
            "meu minha nosso nossa muito eu você nós é são está estão foi será pode podem deve "
            "tem têm senhor senhora"
        ),
        starts_phrase=_words(
            "e ou mas porque pois se quando enquanto onde depois antes até embora então "
            "assim com para por em dentro sobre"
        ),
        titles={
            "sr.": "senhor",
            "sra.": "senhora",
            "srta.": "senhorita",
            "dr.": "doutor",
            "dra.": "doutora",
            "aprox.": "aproximadamente",
        },
        number_sign=re.compile(r"(?:\b[Nn]\.?º|\b[Nn]úm\.)(?=\s*\d)"),
        number_word="número",
    ),
}
LANGUAGES = tuple(_LANGUAGES)
"""Languages whose abbreviations, function words and number signs this module knows."""

_INITIALS = re.compile(r"^(?:[A-Za-z]\.)+$")
"""Single-letter initials and dotted acronyms: "J.", "U.S.", "a.m."."""
_CLOSERS = "\"')]}»”’"
_SENTENCE_END = re.compile(r"[.!?…]+$")
_CLAUSE_END = re.compile(r"[,;:]$")
_DASHES = frozenset({"-", "–", "—", "--"})


def _language(code: str) -> _Language:
    """The tables of `code` ("pt-BR" reads as "pt"); English for a language not known here."""
    return _LANGUAGES.get(code.split("-")[0].split("_")[0].lower(), _LANGUAGES["en"])


class Pause(Enum):
    """What follows a clause: how it was cut from the next one."""

    SENTENCE = "sentence"
    """A sentence end: Piper's own falling tone and pause are kept."""
    CLAUSE = "clause"
    """A comma, semicolon, colon or dash: Piper's shorter pause is kept."""
    NONE = "none"
    """A cut between words to shorten the clause: the audio joins with no audible gap."""


@dataclass(frozen=True, slots=True)
class Clause:
    text: str
    pause: Pause

    @property
    def words(self) -> int:
        return len(self.text.split())


def split_clauses(
    text: str, max_words: int, first_words: int | None = None, language: str = "en"
) -> list[Clause]:
    """Cut `text` into clauses of at most `max_words` words; the first at most `first_words`.

    `language` picks the abbreviations that end no clause and the function words a cut
    between words avoids (an unknown language is cut with the English tables).
    """
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, got {max_words}")
    tables = _language(language)
    first_limit = max_words if first_words is None else max(1, min(first_words, max_words))
    clauses: list[Clause] = []
    for words, pause in _punctuated(text.split(), tables):
        pieces = _cut_long(words, first_limit if not clauses else max_words, max_words, tables)
        clauses.extend(Clause(" ".join(piece), Pause.NONE) for piece in pieces[:-1])
        clauses.append(Clause(" ".join(pieces[-1]), pause))
    return clauses


def speakable(text: str, language: str = "en") -> str:
    """Text as espeak should read it: titles spelled out (espeak ends a sentence at "Mr.",
    "Nr.", "Sra.") and a number sign before digits read as the language's word for number."""
    tables = _language(language)
    text = tables.number_sign.sub(tables.number_word, text)
    return " ".join(tables.titles.get(word.lower(), word) for word in text.split())


def _punctuated(words: list[str], tables: _Language) -> list[tuple[list[str], Pause]]:
    """Groups of words cut at punctuation; dashes standing alone become clause cuts."""
    groups: list[tuple[list[str], Pause]] = []
    current: list[str] = []
    for word in words:
        if word in _DASHES:
            if current:
                groups.append((current, Pause.CLAUSE))
                current = []
            continue
        current.append(word)
        pause = _pause_after(word, tables)
        if pause is not None:
            groups.append((current, pause))
            current = []
    if current:
        groups.append((current, Pause.SENTENCE))
    return groups


def _pause_after(word: str, tables: _Language) -> Pause | None:
    bare = word.rstrip(_CLOSERS)
    if not bare or bare.lower() in tables.abbreviations or _INITIALS.match(bare):
        return None
    if _SENTENCE_END.search(bare):
        return Pause.SENTENCE
    if _CLAUSE_END.search(bare):
        return Pause.CLAUSE
    return None


def _cut_long(words: list[str], first_limit: int, limit: int, tables: _Language) -> list[list[str]]:
    """Pieces of at most `first_limit` words for the first, `limit` for the rest.

    A first limit below `limit` asks for a short first piece (the start of a reply); otherwise
    the pieces are balanced ("4 + 4", not "6 + 2").
    """
    short_first = first_limit < limit
    pieces: list[list[str]] = []
    rest = words
    while len(rest) > (first_limit if not pieces else limit):
        first = not pieces
        cut = _best_cut(rest, first_limit if first else limit, first and short_first, tables)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


def _best_cut(words: list[str], limit: int, shortest_first: bool, tables: _Language) -> int:
    """How many words to take: as close to the target as the phrase boundaries allow."""
    count = len(words)
    longest = max(1, min(limit, count - MIN_TAIL_WORDS))
    if shortest_first:
        target = longest
    else:
        pieces = -(-count // limit)
        target = min(longest, -(-count // pieces))
    candidates = range(max(1, target - 2), longest + 1)
    return max(candidates, key=lambda cut: (_cut_quality(words, cut, tables), -abs(cut - target)))


def _cut_quality(words: list[str], cut: int, tables: _Language) -> int:
    before = _bare(words[cut - 1])
    after = _bare(words[cut])
    quality = 0
    if before in tables.binds_forward or _is_number(before):
        quality -= 2
    if after in tables.starts_phrase:
        quality += 1
    return quality


def _bare(word: str) -> str:
    return word.strip(_CLOSERS + "\"'(¿¡").lower()


def _is_number(word: str) -> bool:
    return any(char.isdigit() for char in word)
