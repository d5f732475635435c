"""Rewriting a caller's turn into the canonical (English) form the entity parsers read.

Three passes over the turn, each leaving alone what it does not know:

1. number words -> digits (text2num's ``alpha2digit``: "vier sieben sieben null null" ->
   "4 7 7 00", "cuarenta y siete mil setecientos" -> "47700"; articles stay words);
2. spelled stretches: letter names -> letters, only where a letter, digit or e-mail symbol
   stands next to them ("efe a erre" -> "f a r", but "de" in "cuatro de mayo" stays);
3. closed-class words and phrases -> English ("Postleitzahl" -> "postcode", "nein, ich meine"
   -> "no, i mean", "arroba" -> "at"), then a few patterns over the result (dates, "vor 3
   Tagen" -> "3 days ago", "3 letters" -> "three letters").

Every other word keeps its spelling and case; separators stay as the caller wrote them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from text_to_num import alpha2digit

from voice_agent.lexicon.table import Fix, Lexicon

# A written address or number stays one token; a word keeps a French elision ("l'", "c'")
# as its own word; hyphens and spaces separate words.
_TOKEN = re.compile(
    r"(?P<text>[^\s@]+@[^\s@]+|\d+(?:[-/.:]\d+)*|[^\W\d_]+(?:'(?=[^\W\d_]))?|[^\w\s-]|_|-)"
    r"(?P<sep>[\s-]*)"
)
_KEY_WORD = re.compile(r"[^\W\d_]+'?")
"""A word of a lexicon's key, split as ``_TOKEN`` splits the caller's ("c'est": "c'", "est")."""
_SKIPPED_BETWEEN_LETTERS = frozenset({",", ".", ";"})
EMAIL_SYMBOLS = frozenset({"at", "dot", "underscore", "dash", "hyphen", "plus"})
"""The English e-mail words entities.email_address reads (their spoken forms map to these)."""
TOP_LEVEL_DOMAINS = frozenset(
    "com net org info biz eu de at ch es fr be pt br it nl uk us mx ar cl co io lu".split()
)
"""Words after a spoken "dot" that name a domain, not letters ("punkt de" is ".de")."""
_YES_WORDS = frozenset(
    {"yes", "of course", "okay", "please", "exactly", "right", "correct", "sure", "yes please"}
    | {"thanks", "that's right", "go ahead", "do it", "absolutely", "definitely"}
)
_REPEATS = frozenset({"double", "triple"})
_DIGIT_NAMES = "zero one two three four five six seven eight nine".split()


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    sep: str
    kind: str  # "word", "number" or "other"

    @property
    def lower(self) -> str:
        return self.text.lower()


def _tokenize(text: str) -> tuple[str, list[_Token]]:
    """The leading separator and the tokens of ``text``."""
    lead = re.match(r"[\s-]*", text)
    start = lead.end() if lead else 0
    tokens = [
        _Token(found.group("text"), found.group("sep"), _kind(found.group("text")))
        for found in _TOKEN.finditer(text, start)
    ]
    return text[:start], tokens


def _kind(text: str) -> str:
    if text[0].isdigit():
        return "number"
    return "word" if text[0].isalpha() else "other"


def plain(text: str) -> str:
    """``text`` without accents ("código" -> "codigo", "ñ" -> "n"; "ß" stays)."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True, slots=True)
class _Table:
    """A mapping keyed by word tuples, with its accent-free fallback and longest key."""

    exact: Mapping[tuple[str, ...], str]
    bare: Mapping[tuple[str, ...], str]
    longest: int

    def find(self, words: Sequence[str]) -> str | None:
        key = tuple(words)
        found = self.exact.get(key)
        bare = tuple(plain(word) for word in key)
        if found is None and bare == key:
            found = self.bare.get(bare)  # only where ASR left the accents out
        return found


def _table(entries: Mapping[str, str], accents_matter: frozenset[str]) -> _Table:
    exact = {tuple(_KEY_WORD.findall(phrase.lower())): value for phrase, value in entries.items()}
    bare: dict[tuple[str, ...], str] = {}
    for key, value in exact.items():
        stripped = tuple(plain(word) for word in key)
        # A single character without its accent is another letter or word ("ä", "é").
        if " ".join(stripped) not in accents_matter and len("".join(stripped)) > 1:
            bare.setdefault(stripped, value)
    longest = max((len(key) for key in exact), default=1)
    return _Table(exact, bare, longest)


@dataclass(frozen=True, slots=True)
class _Compiled:
    words: _Table
    letters: _Table
    fixes: tuple[Fix, ...]


_COMPILED: dict[str, _Compiled] = {}


def _compiled(lexicon: Lexicon) -> _Compiled:
    """The lexicon's tables, built on first use (one per language code; two threads building
    one at once build the same tables, and either is kept)."""
    if lexicon.code not in _COMPILED:
        _COMPILED[lexicon.code] = _build(lexicon)
    return _COMPILED[lexicon.code]


def _build(lexicon: Lexicon) -> _Compiled:
    return _Compiled(
        words=_table(lexicon.words, lexicon.accents_matter),
        letters=_table(lexicon.letters, lexicon.accents_matter),
        fixes=lexicon.fixes + _general_fixes(lexicon),
    )


def rewrite(text: str, lexicon: Lexicon) -> str:
    """``text`` in canonical form for ``lexicon``'s language (see the module's doc)."""
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("‘", "'")
    if not text.strip():
        return text
    compiled = _compiled(lexicon)
    for pattern, replacement in lexicon.before_numbers:
        text = pattern.sub(replacement, text)
    lead, tokens = _tokenize(_small_in_codes(alpha2digit(text, lexicon.code), lexicon))
    spans: dict[int, tuple[int, str]] = {}
    taken = [False] * len(tokens)
    _spell(tokens, lexicon, compiled, spans, taken)
    _translate(tokens, lexicon, compiled, spans, taken)
    result = lead + _join(tokens, spans)
    for pattern, replacement in compiled.fixes:
        result = pattern.sub(replacement, result)
    return result


def _small_in_codes(text: str, lexicon: Lexicon) -> str:
    """Small number words beside a spelled (capital) letter or a digit, as digits: a
    postcode or code said character by character ("V 6 B eins A eins" -> "V 6 B 1 A 1")."""
    if not lexicon.small_numbers:
        return text
    pieces = _PIECE.split(text)  # words at odd indexes, what lies between them at even ones
    words = pieces[1::2]
    changed = True
    while changed:  # "A eins eins": each word beside one just turned into a digit
        changed = False
        for k, word in enumerate(words):
            digit = lexicon.small_numbers.get(word.lower())
            if digit is not None and (_code_char(words, k - 1) or _code_char(words, k + 1)):
                words[k], changed = digit, True
    pieces[1::2] = words
    return "".join(pieces)


_PIECE = re.compile(r"([^\W_]+)")


def _code_char(words: Sequence[str], k: int) -> bool:
    """A digit or a spelled capital letter at ``k``."""
    if not 0 <= k < len(words):
        return False
    word = words[k]
    return word.isdigit() or (len(word) == 1 and word.isascii() and word.isupper())


def _join(tokens: Sequence[_Token], spans: Mapping[int, tuple[int, str]]) -> str:
    pieces: list[str] = []
    i = 0
    while i < len(tokens):
        if i in spans:
            end, replacement = spans[i]
            sep = tokens[end - 1].sep
            if not sep and end < len(tokens) and tokens[end].kind != "other":
                sep = " "  # "l'adresse" -> "the adresse"
            pieces.append(replacement + sep)
            i = end
            continue
        pieces.append(tokens[i].text + tokens[i].sep)
        i += 1
    return "".join(pieces)


def _longest(
    tokens: Sequence[_Token], i: int, table: _Table, taken: Sequence[bool]
) -> tuple[int, str] | None:
    """The longest key of ``table`` said from ``tokens[i]``: (its end, its value)."""
    for length in range(min(table.longest, len(tokens) - i), 0, -1):
        window = tokens[i : i + length]
        if any(token.kind != "word" for token in window) or any(taken[i : i + length]):
            continue
        found = table.find([token.lower for token in window])
        if found is not None:
            return i + length, found
    return None


# --- pass 2: spelled stretches -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Letter:
    start: int
    end: int
    letter: str
    common: bool  # a name that is an everyday word too


def _spell(
    tokens: Sequence[_Token],
    lexicon: Lexicon,
    compiled: _Compiled,
    spans: dict[int, tuple[int, str]],
    taken: list[bool],
) -> None:
    """Letter names said among other letters, digits or e-mail symbols become letters; single
    letters there are kept from the word pass ("o" of "j o a o" is no Portuguese article)."""
    candidates = _letter_candidates(tokens, lexicon, compiled)
    confirmed: set[int] = set()  # token indices of letters confirmed so far
    for unit in _spelled_by_words(tokens, lexicon, compiled, candidates):
        candidates = [c for c in candidates if not unit.start <= c.start < unit.end] + [unit]
        confirmed.update(range(unit.start, unit.end))
    role = ["" for _ in tokens]
    for candidate in candidates:
        for k in range(candidate.start, candidate.end):
            role[k] = "common" if candidate.common else "letter"
    for k, token in enumerate(tokens):
        if token.kind == "number" or _is_email_symbol(token, compiled):
            role[k] = "spell"
        elif token.kind == "word" and compiled.words.find([token.lower]) in _REPEATS:
            role[k] = "spell"  # "doble ele"
    pending = [
        candidate
        for candidate in candidates
        if not _names_domain_after(tokens, candidate, compiled)
    ]
    # A name that is no everyday word is a letter next to anything spellable; an everyday
    # word only next to a confirmed letter, which spreads along "j o a o" but not into
    # "não é esse o número".
    changed = True
    while changed:
        changed = False
        for candidate in pending:
            if candidate.start in confirmed:
                continue
            near = _near(tokens, candidate)
            if candidate.common:
                letter_near = any(k in confirmed or role[k] == "letter" for k in near)
            else:
                letter_near = any(role[k] for k in near)
            if letter_near:
                confirmed.update(range(candidate.start, candidate.end))
                changed = True
    for candidate in pending:
        if candidate.start not in confirmed:
            continue
        spans[candidate.start] = (candidate.end, candidate.letter)
        for k in range(candidate.start, candidate.end):
            taken[k] = True


def _spelled_by_words(
    tokens: Sequence[_Token], lexicon: Lexicon, compiled: _Compiled, candidates: list[_Letter]
) -> list[_Letter]:
    """ "M wie Martha", "eme de Madrid", "M comme Marcel": a letter told by a word, read as the
    letter alone. A letter that is an everyday word too ("a de Ana") counts only where the
    turn spells two letters so at least."""
    units: list[_Letter] = []
    for candidate in candidates:
        i = candidate.end
        if i + 1 >= len(tokens) or tokens[i].lower not in lexicon.spelling_joiners:
            continue
        word = tokens[i + 1]
        if word.kind != "word" or len(word.text) < 3 or compiled.letters.find([word.lower]):
            continue
        units.append(_Letter(candidate.start, i + 2, candidate.letter, candidate.common))
    if len(units) >= 2:
        return units
    return [unit for unit in units if not unit.common]


def _near(tokens: Sequence[_Token], candidate: _Letter) -> list[int]:
    before = _neighbour(tokens, candidate.start - 1, -1)
    after = _neighbour(tokens, candidate.end, 1)
    return [k for k in (before, after) if k is not None]


def _letter_candidates(
    tokens: Sequence[_Token], lexicon: Lexicon, compiled: _Compiled
) -> list[_Letter]:
    candidates: list[_Letter] = []
    i = 0
    while i < len(tokens):
        named = _longest(tokens, i, compiled.letters, [False] * len(tokens))
        word = tokens[i].lower
        if named is not None:
            end, letter = named
            common = end == i + 1 and word in lexicon.common_letters
            candidates.append(_Letter(i, end, letter, common))
            i = end
            continue
        if tokens[i].kind == "word" and len(word) == 1 and word not in lexicon.never_letters:
            common = word in lexicon.common_letters  # "o", "a": articles too
            candidates.append(_Letter(i, i + 1, tokens[i].text, common))
        i += 1
    return candidates


def _neighbour(tokens: Sequence[_Token], k: int, step: int) -> int | None:
    """The index of the token next to a letter, across commas and full stops."""
    while 0 <= k < len(tokens) and tokens[k].text in _SKIPPED_BETWEEN_LETTERS:
        k += step
    return k if 0 <= k < len(tokens) else None


def _is_email_symbol(token: _Token, compiled: _Compiled) -> bool:
    if token.text in ("@", "_", "+"):
        return True
    return token.kind == "word" and (
        token.lower in EMAIL_SYMBOLS or compiled.words.find([token.lower]) in EMAIL_SYMBOLS
    )


def _names_domain_after(tokens: Sequence[_Token], candidate: _Letter, compiled: _Compiled) -> bool:
    """ "punkt de", "punto es": a domain after a spoken dot, not a letter."""
    before = _neighbour(tokens, candidate.start - 1, -1)
    if before is None or candidate.end != candidate.start + 1:
        return False
    word = tokens[candidate.start].lower
    return word in TOP_LEVEL_DOMAINS and _says_dot(tokens[before], compiled)


def _says_dot(token: _Token, compiled: _Compiled) -> bool:
    return token.kind == "word" and "dot" in (token.lower, compiled.words.find([token.lower]))


# --- pass 3: closed-class words ------------------------------------------------------------------


def _translate(
    tokens: Sequence[_Token],
    lexicon: Lexicon,
    compiled: _Compiled,
    spans: dict[int, tuple[int, str]],
    taken: list[bool],
) -> None:
    keywords = _translate_words(tokens, lexicon, compiled, spans, taken)
    _translate_preamble(tokens, lexicon, keywords, spans, taken)


def _translate_words(
    tokens: Sequence[_Token],
    lexicon: Lexicon,
    compiled: _Compiled,
    spans: dict[int, tuple[int, str]],
    taken: list[bool],
) -> dict[int, int]:
    """The words and phrases of ``lexicon.words``; returns their spans (start -> end)."""
    translated: dict[int, int] = {}
    first_word = next((k for k, token in enumerate(tokens) if token.kind != "other"), None)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if taken[i] or token.kind != "word":
            i += 1
            continue
        if i > 0 and _is_email_symbol(tokens[i - 1], compiled):
            i += 1  # "arroba correo punto es": a name in an address keeps its word
            continue
        opens = i == first_word or (i > 0 and tokens[i - 1].text in ",.;:!?¿¡")
        starts = opens and token.lower in lexicon.turn_start
        if starts and _yes_follows(tokens, i + 1, compiled):
            spans[i] = (i + 1, lexicon.turn_start[token.lower])
            i += 1
            continue
        found = _longest(tokens, i, compiled.words, taken)
        if found is None:
            i += 1
            continue
        end, value = found
        spans[i] = (end, value)
        translated[i] = end
        for k in range(i, end):
            taken[k] = True
        i = end
    return translated


def _translate_preamble(
    tokens: Sequence[_Token],
    lexicon: Lexicon,
    keywords: Mapping[int, int],
    spans: dict[int, tuple[int, str]],
    taken: list[bool],
) -> None:
    """Articles and possessives before a keyword ("die Postleitzahl", "o meu e-mail") and a
    copula after one ("Postleitzahl ist", "letras son", "CEP é"); elsewhere they are part
    of a name ("Rue de la Paix", "Rua São Bento") and keep their words."""
    # "punto es" is a domain: a copula never follows a spoken e-mail symbol.
    ends = {end for start, end in keywords.items() if spans[start][1] not in EMAIL_SYMBOLS}
    for i, token in enumerate(tokens):
        if taken[i] or token.kind != "word":
            continue
        word = token.lower
        if word in lexicon.copulas and _after_keyword(tokens, i, ends):
            spans[i] = (i + 1, lexicon.copulas[word])
            taken[i] = True
        elif word in lexicon.preamble and _before_keyword(tokens, i, lexicon, keywords):
            spans[i] = (i + 1, lexicon.preamble[word])
            taken[i] = True


def _after_keyword(tokens: Sequence[_Token], i: int, ends: set[int]) -> bool:
    """Right after a keyword, or after a keyword and a count ("últimos cuatro son")."""
    if i in ends:
        return True
    return i >= 1 and tokens[i - 1].kind == "number" and i - 1 in ends


def _before_keyword(
    tokens: Sequence[_Token], i: int, lexicon: Lexicon, keywords: Mapping[int, int]
) -> bool:
    """Before a keyword, across other articles, possessives and counts ("as 3 primeiras")."""
    k = i + 1
    while k < len(tokens) and (tokens[k].kind == "number" or tokens[k].lower in lexicon.preamble):
        k += 1
    return k in keywords


def _yes_follows(tokens: Sequence[_Token], k: int, compiled: _Compiled) -> bool:
    """Nothing, a pause or a yes-word after a turn's first word ("si, claro", "si.")."""
    if k >= len(tokens) or tokens[k].kind == "other":
        return True
    following = _longest(tokens, k, compiled.words, [False] * len(tokens))
    return following is not None and following[1] in _YES_WORDS


# --- patterns over the rewritten text -----------------------------------------------------------


def _general_fixes(lexicon: Lexicon) -> tuple[Fix, ...]:
    fixes: list[Fix] = []
    if lexicon.conjunction:
        # "zero um três um zero e um zero zero": the joiner of two digit groups is "and",
        # never a spelled letter E.
        joiner = re.compile(rf"(?<=\d)\s+{re.escape(lexicon.conjunction)}\s+(?=\d)", re.I)
        fixes.append((joiner, " and "))
    # The English preamble reads counts as words: "the last four digits", "first three letters".
    counted = re.compile(r"\b([1-9])\s+(letters|digits)\b")
    fixes.append((counted, _spelled_count))
    fixes.append((re.compile(r"\b([1-9])\s+first\b"), _count_after_first))
    fixes.extend(_month_fixes(lexicon.months))
    return tuple(fixes)


def _spelled_count(found: re.Match[str]) -> str:
    return f"{_DIGIT_NAMES[int(found.group(1))]} {found.group(2)}"


def _count_after_first(found: re.Match[str]) -> str:
    return f"first {_DIGIT_NAMES[int(found.group(1))]}"


def _month_fixes(months: Mapping[str, str]) -> list[Fix]:
    """ "3. Mai", "3 de mayo de 2024", "first mai" -> "3 of may", "3 of may 2024"."""
    if not months:
        return []
    names = sorted({*months, *(plain(name) for name in months)}, key=len, reverse=True)
    alternation = "|".join(re.escape(name) for name in names)
    english = {plain(name).lower(): value for name, value in months.items()}

    def day_month(found: re.Match[str]) -> str:
        return f"{found.group(1)} of {english[plain(found.group(2)).lower()]}"

    day_first = re.compile(
        rf"\b(\d{{1,2}}|first)(?:\.|º|ª|er)?\s+(?:(?:de|del|do|of)\s+)?({alternation})\b", re.I
    )
    english_names = "|".join(sorted(set(months.values())))
    year_after = re.compile(rf"\b({english_names})\s+(?:(?:de|del|do)\s+)?(\d{{4}})\b")
    return [(day_first, day_month), (year_after, r"\1 \2")]
