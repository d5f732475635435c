"""Entities as callers say them and as Whisper writes them (English).

Order numbers and phone digits ("four five six seven", "forty-five sixty-seven", "double seven",
"oh" for zero, "4567", "45 67", "4-5-6-7"), e-mail addresses spelled out ("j o h n at example dot
com"), postcodes with letters ("S W one A one A A" -> "SW1A 1AA"), and dates ("the 3rd of
November", "last Tuesday"). Pure functions over text; nothing here knows the shop's data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from voice_agent.spoken_numbers import DIGIT_WORDS, REPEATS, SOUNDALIKES, TEENS, TENS

logger = logging.getLogger(__name__)

# "oh", "nought" and friends are zero too when callers give digits.
UNITS = {**DIGIT_WORDS, "oh": 0, "o": 0, "nought": 0, "naught": 0, "nil": 0}
# Hesitations and joiners a caller puts between digits without ending the number.
_FILLERS = frozenset({"um", "uh", "er", "erm", "ah", "hmm", "mm"})
# "oh" is zero only next to other digits; alone it is an exclamation.
_ZERO_WORDS_NEEDING_CONTEXT = frozenset({"oh", "o"})

LETTER_NAMES = {
    "ay": "a",
    "bee": "b",
    "be": "b",
    "cee": "c",
    "see": "c",
    "sea": "c",
    "dee": "d",
    "ee": "e",
    "eff": "f",
    "ef": "f",
    "gee": "g",
    "aitch": "h",
    "haitch": "h",
    "eye": "i",
    "jay": "j",
    "kay": "k",
    "el": "l",
    "elle": "l",
    "em": "m",
    "en": "n",
    "oh": "o",
    "pee": "p",
    "pea": "p",
    "cue": "q",
    "queue": "q",
    "ar": "r",
    "are": "r",
    "ess": "s",
    "tee": "t",
    "tea": "t",
    "you": "u",
    "vee": "v",
    "ex": "x",
    "why": "y",
    "zed": "z",
    "zee": "z",
}

# Words are Unicode letters: a German, Spanish, French or Portuguese word ("straße", "não")
# stays one word instead of falling apart into ASCII pieces that read as spelled letters.
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+(?:st|nd|rd|th)\b|\d+|[@.,#*+_]")
_CODE_TOKEN = re.compile(r"[^\W_]+(?:'[^\W\d_]+)?|[,.]")


def tokens(text: str) -> list[str]:
    """Lower-case words, digit strings and the symbols that matter (@ . , # * + _)."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # "4,567": a thousands separator
    text = text.replace("e-mail", "email")
    return _TOKEN.findall(text.replace("-", " "))


# --- spoken numbers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Group:
    digits: str
    end: int


def _small(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """A number below 100 said as words: "seven", "seventeen", "seventy", "seventy seven"."""
    if i >= len(words):
        return None
    word = words[i]
    if word in TENS:
        if i + 1 < len(words) and words[i + 1] in UNITS and UNITS[words[i + 1]] > 0:
            return TENS[word] + UNITS[words[i + 1]], i + 2
        return TENS[word], i + 1
    if word in TEENS:
        return TEENS[word], i + 1
    if word in UNITS and word not in _ZERO_WORDS_NEEDING_CONTEXT:
        return UNITS[word], i + 1
    return None


def _below_thousand(words: Sequence[str], i: int) -> tuple[int, int, bool] | None:
    """(value, end, used "hundred") for "four hundred and five", "forty-five hundred", "12"."""
    if i < len(words) and words[i] == "a" and i + 1 < len(words) and words[i + 1] == "hundred":
        start: tuple[int, int] | None = (1, i + 1)
    else:
        start = _small(words, i)
    if start is None:
        return None
    value, j = start
    if j < len(words) and words[j] == "hundred" and value > 0:
        value *= 100
        j += 1
        k = j + 1 if j < len(words) and words[j] == "and" else j
        rest = _small(words, k)
        if rest is not None:
            value += rest[0]
            j = rest[1]
        return value, j, True
    return value, j, False


def _group(words: Sequence[str], i: int) -> _Group | None:
    """One stretch of a spoken number: a digit string, a repeated digit, or a number in words."""
    word = words[i]
    if word.isdigit():
        return _Group(word, i + 1)
    if word in REPEATS and i + 1 < len(words):
        following = words[i + 1]
        digit = str(UNITS[following]) if following in UNITS else None
        if following.isdigit() and len(following) == 1:
            digit = following
        if digit is not None:
            return _Group(digit * REPEATS[word], i + 2)
        return None
    if word in _ZERO_WORDS_NEEDING_CONTEXT:
        return _Group("0", i + 1)
    head = _below_thousand(words, i)
    if head is None and word == "a" and i + 1 < len(words) and words[i + 1] == "thousand":
        head = (1, i + 1, False)
    if head is None:
        return None
    value, j, _ = head
    if j < len(words) and words[j] == "thousand" and value > 0:
        value *= 1000
        j += 1
        k = j + 1 if j < len(words) and words[j] == "and" else j
        rest = _below_thousand(words, k)
        if rest is not None:
            value += rest[0]
            j = rest[1]
    return _Group(str(value), j)


def _is_number_word(word: str) -> bool:
    return (
        word.isdigit()
        or word in UNITS
        or word in TEENS
        or word in TENS
        or word in REPEATS
        or word in ("hundred", "thousand")
    )


def digit_runs(text: str) -> list[str]:
    """Every run of digits said in ``text``, in order: "my order is four five six seven" ->
    ["4567"]. Groups said one after another join ("forty-five sixty-seven" -> "4567");
    hesitations and commas inside a run are skipped."""
    words = tokens(text)
    runs: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _ZERO_WORDS_NEEDING_CONTEXT and not current:
            following = words[i + 1] if i + 1 < len(words) else ""
            if not _is_number_word(following) or following in _ZERO_WORDS_NEEDING_CONTEXT:
                i += 1
                continue
        group = _group(words, i) if _is_number_word(word) or word == "a" else None
        if group is not None:
            current.append(group.digits)
            i = group.end
            continue
        if current and _heard_for_a_digit(words, i, current[-1]):
            current.append(SOUNDALIKES[word])
            i += 1
            continue
        # Keep the run open across a pause, but not past a word that ends it.
        pause = word in _FILLERS or word in (",", ".", "and")
        if current and pause and _next_is_number(words, i + 1):
            i += 1
            continue
        if current:
            runs.append("".join(current))
            current = []
        i += 1
    if current:
        runs.append("".join(current))
    return runs


def _heard_for_a_digit(words: Sequence[str], i: int, previous: str) -> bool:
    """A "to" or "for" that ASR wrote for a digit: only inside digit-by-digit dictation
    ("0 3 to 1"), so "order 4567 for 2 weeks" keeps its words."""
    if words[i] not in SOUNDALIKES or len(previous) != 1 or i + 1 >= len(words):
        return False
    following = words[i + 1]
    return (following.isdigit() and len(following) == 1) or following in UNITS


def _next_is_number(words: Sequence[str], i: int) -> bool:
    while i < len(words) and (words[i] in _FILLERS or words[i] in (",", ".")):
        i += 1
    return i < len(words) and (_is_number_word(words[i]) or words[i] in _ZERO_WORDS_NEEDING_CONTEXT)


def dtmf_digits(dtmf: str) -> str:
    """Keypad input as digits: "4567#" -> "4567" (# ends the entry, * is ignored)."""
    return "".join(ch for ch in dtmf.split("#")[0] if ch.isdigit())


def spoken_digits(text: str, dtmf: str | None = None) -> str:
    """All digits the caller gave in this turn, keypad first, else the runs said, joined."""
    if dtmf:
        return dtmf_digits(dtmf)
    return "".join(digit_runs(text))


_CORRECTED = re.compile(r"\b(?:no|nope|sorry|sorry i mean|i mean|i meant|actually|wait|rather)\b")


def order_number(text: str, dtmf: str | None, lengths: tuple[int, int]) -> str | None:
    """An order number of ``lengths`` (min, max digits) said or typed in this turn; the one
    after a correction when the caller corrected themselves ("0 8 8 1 4, no sorry, 5 8 8 1 4")."""
    low, high = lengths
    if dtmf:
        digits = dtmf_digits(dtmf)
        return digits if low <= len(digits) <= high else None
    said = " ".join(tokens(text))
    parts = _CORRECTED.split(said)
    if len(parts) > 1 and digit_runs(" ".join(parts[:-1])):
        corrected = _order_number_in(parts[-1], low, high)
        if corrected is not None:
            return corrected
    return _order_number_in(text, low, high)


def _order_number_in(text: str, low: int, high: int) -> str | None:
    runs = digit_runs(text)
    for run in runs:
        if low <= len(run) <= high:
            return run
    joined = "".join(runs)
    return joined if low <= len(joined) <= high else None


def phone_tail(text: str, dtmf: str | None, count: int = 4) -> str | None:
    """The last ``count`` digits of a phone number: exactly ``count`` said, or a longer number."""
    if dtmf:
        digits = dtmf_digits(dtmf)
        return digits[-count:] if len(digits) >= count else None
    runs = [run for run in digit_runs(text) if len(run) >= count]
    return runs[-1][-count:] if runs else None


# --- spelling (e-mail addresses, postcodes) ---------------------------------------------------

_EMAIL_WRITTEN = re.compile(r"[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_EMAIL_SYMBOLS = {
    "at": "@",
    "@": "@",
    "dot": ".",
    "period": ".",
    "point": ".",
    ".": ".",
    "underscore": "_",
    "_": "_",
    "dash": "-",
    "hyphen": "-",
    "minus": "-",
    "plus": "+",
    "+": "+",
}
_PREAMBLE = frozenset(
    {
        "so",
        "well",
        "yes",
        "yeah",
        "ok",
        "okay",
        "sure",
        "um",
        "uh",
        "er",
        "it's",
        "its",
        "it",
        "is",
        "my",
        "the",
        "email",
        "mail",
        "address",
        "first",
        "three",
        "letters",
        "are",
        "they're",
        "that's",
        "spelled",
        "spelt",
        "of",
        "postcode",
        "post",
        "postal",
        "zip",
        "code",
        "phone",
        "number",
        "ends",
        "end",
        "starts",
        "start",
        "begins",
        "begin",
        "with",
        "in",
        "last",
        "four",
        "digits",
        "i",
        "think",
        "",
        ",",
        ".",
    }
)
_CASE_WORDS = frozenset({"capital", "uppercase", "lowercase", "small", "big", "letter"})


_EMAIL_NAMED = frozenset({"email", "mail", "address", "is", "it's", "that's"})


def _after_email_named(words: list[str]) -> list[str]:
    """The words after the last one naming the address before its "at" ("you can look it up
    with my email, fiona dot campbell at ...": "fiona dot campbell at ...")."""
    at = next((i for i, word in enumerate(words) if word in ("at", "@")), len(words))
    joiners = ("dot", "underscore", "dash", "hyphen", ".", "_")
    named = [
        i
        for i, word in enumerate(words[:at])
        if word in _EMAIL_NAMED
        and (i + 1 >= len(words) or words[i + 1] not in joiners)
        and (i == 0 or words[i - 1] not in joiners)
    ]
    return words[named[-1] + 1 :] if named else words


def _strip_preamble(words: list[str]) -> list[str]:
    i = 0
    while i < len(words) and words[i] in _PREAMBLE:
        # "four" and "three" start a number as often as they end "last four digits" / "first
        # three letters": keep them unless the preamble word after them follows.
        if words[i] in ("four", "three") and not (
            i + 1 < len(words) and words[i + 1] in ("digits", "letters")
        ):
            break
        # "i" before another spelled letter is a letter too ("starts with i s a").
        following = [word for word in words[i + 1 : i + 3] if word != ","]
        if words[i] == "i" and following and len(following[0]) == 1 and following[0].isalpha():
            break
        i += 1
    return words[i:]


def _spelled_email(words: list[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _CASE_WORDS or word in (",", "then"):
            i += 1
            continue
        if word == "as" and i + 2 < len(words) and words[i + 1] == "in":
            i += 3  # "j as in juliet"
            continue
        if word == "double" and i + 1 < len(words):
            following = words[i + 1]
            if following in ("you", "u"):
                out.append("w")
                i += 2
                continue
            letter = _letter(following)
            if letter is not None:
                out.append(letter * 2)
                i += 2
                continue
        if word in _EMAIL_SYMBOLS:
            out.append(_EMAIL_SYMBOLS[word])
            i += 1
            continue
        if _is_number_word(word) and word not in _ZERO_WORDS_NEEDING_CONTEXT:
            group = _group(words, i)
            if group is not None:
                out.append(group.digits)
                i = group.end
                continue
        letter = _letter(word)
        out.append(letter if letter is not None else word)
        i += 1
    return "".join(out).strip(".")


def _letter(word: str) -> str | None:
    if len(word) == 1 and word.isascii() and word.isalpha():
        return word
    return LETTER_NAMES.get(word)


def email_address(text: str) -> str | None:
    """A whole e-mail address, written ("john.smith@gmail.com") or spelled out
    ("john dot smith at gmail dot com"); None when no "@" or "at" is in it."""
    written = _EMAIL_WRITTEN.search(text.lower().replace(" @ ", "@"))
    if written:
        return written.group(0).rstrip(".")
    spelled = _spelled_email(_strip_preamble(_after_email_named(tokens(text))))
    if spelled.count("@") != 1:
        return None
    local, domain = spelled.split("@")
    if not local or "." not in domain:
        return None
    return spelled


def email_letters(text: str) -> str:
    """The letters and digits of an e-mail's start as spelled ("j o h", "jay oh aitch",
    "john dot smith at ...") with the symbols left out: "joh", "joh", "johnsmith"."""
    address = email_address(text)
    spelled = address.split("@")[0] if address else _spelled_email(_strip_preamble(tokens(text)))
    return re.sub(r"[^a-z0-9]", "", spelled.split("@")[0])


# (pattern, separator between its parts when written), most specific first.
def spelled_letters(text: str) -> str | None:
    """The start of an e-mail address as the caller gave it: an address ("anna.schmidt at
    example dot com"), letters spelled one by one ("a n n", "jay oh aitch"), or one word
    ("Anne"). None for anything else, so that a sentence never passes for letters."""
    if email_address(text) is not None:
        return email_letters(text)
    words = [word for word in _strip_preamble(tokens(text)) if word not in (",", ".")]
    words = [word for word in words if word not in _CASE_WORDS]
    if not words:
        return None
    spelled = all(
        _letter(word) is not None
        or word.isdigit()
        or word in UNITS
        or word in ("double", "dot", "underscore", "dash", "hyphen")
        for word in words
    )
    if not spelled and len(words) > 1:
        return None
    letters = email_letters(text)
    return letters or None


_POSTCODE_WRITTEN = (
    (re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})\b"), " "),  # GB
    (re.compile(r"\b([A-Z]\d[A-Z])\s*(\d[A-Z]\d)\b"), " "),  # CA
    (re.compile(r"\b(\d{4})\s*([A-Z]{2})\b"), " "),  # NL
    (re.compile(r"\b(\d{5})-?(\d{3})\b"), "-"),  # BR
    (re.compile(r"\b(\d{4})-(\d{3})\b"), "-"),  # PT, written with its hyphen
    (re.compile(r"\b(\d{5})(?:-\d{4})?\b"), ""),  # US, DE, FR, ES, IT, SA
    (re.compile(r"\b(\d{4})\b"), ""),  # AU, AT, BE, CH, DK
)


def postcode(text: str) -> str | None:
    """A postcode written or spelled in ``text``, formatted: "SW1A 1AA", "1012 AB", "10119"."""
    written = _written_postcode(text.upper())
    if written is not None:
        return written
    code = spelled_code(text)
    if code is None:
        return None
    written = _written_postcode(code) or _spelled_portuguese(code)
    if written is None and code[-1:] == "I":
        # "postcode M one one A E, I want to complain": the caller's "I" is no letter of it.
        written = _written_postcode(code[:-1])
    return written or code


_PORTUGUESE_SPELLED = re.compile(r"^(\d{4})(\d{3})$")


def _spelled_portuguese(code: str) -> str | None:
    """Seven digits said one by one are a Portuguese postcode ("1000-001"): written, those
    seven digits need their hyphen, lest a seven-digit number pass for one."""
    found = _PORTUGUESE_SPELLED.match(code)
    return "-".join(found.groups()) if found else None


def is_postcode(code: str) -> bool:
    """Whether ``code`` has the whole shape of a postcode ("SW1A 1AA", "10119", "1012 AB")."""
    return _written_postcode(code.upper()) is not None


def _written_postcode(text: str) -> str | None:
    for pattern, separator in _POSTCODE_WRITTEN:
        found = pattern.search(text)
        if found:
            return separator.join(found.groups())
    return None


def spelled_code(text: str) -> str | None:
    """Letters and digits said one by one, upper-cased and joined: "S W one A one A A" ->
    "SW1A1AA". The longest such stretch in ``text``; None when it holds no digit."""
    words = _strip_preamble(_CODE_TOKEN.findall(re.sub(r"[-/]", " ", text.lower())))
    best: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(words):
        piece, end = _code_piece(words, i)
        if piece is not None:
            # "oh" is a zero among digits but the letter O among letters ("o l i").
            current.append("o" if words[i] in _ZERO_WORDS_NEEDING_CONTEXT else piece)
            i = end
            continue
        if words[i] not in (",", ".", "dash", "hyphen", "space") and current:
            best = max(best, current, key=lambda part: len("".join(part)))
            current = []
        i += 1
    best = max(best, current, key=lambda part: len("".join(part)))
    code = "".join(best).upper()
    if not any(ch.isdigit() for ch in code):
        return None
    return _zeros_among_digits(code)


def _zeros_among_digits(code: str) -> str:
    """Each spoken "O" next to a digit becomes a zero: "1O119" -> "10119", "SW1A" stays."""
    chars = list(code)
    for index, ch in enumerate(chars):
        if ch != "O":
            continue
        neighbours = chars[max(0, index - 1) : index] + chars[index + 1 : index + 2]
        if any(n.isdigit() or n == "O" for n in neighbours):
            chars[index] = "0"
    return "".join(chars)


def _code_piece(words: Sequence[str], i: int) -> tuple[str | None, int]:
    """One spelled piece of a code at ``words[i]`` and where it ends: "sw1a", "one", "a"."""
    word = words[i]
    if word.isalnum() and any(ch.isdigit() for ch in word):
        return word, i + 1
    if _is_number_word(word) or word in _ZERO_WORDS_NEEDING_CONTEXT:
        group = _group(words, i)
        if group is not None:
            return group.digits, group.end
    if len(word) == 1 and word.isascii() and word.isalpha():
        return word, i + 1
    if word in LETTER_NAMES and word not in ("are", "you", "be", "see", "why", "oh"):
        return LETTER_NAMES[word], i + 1
    return None, i + 1


def without_postcode(text: str, code: str) -> str:
    """``text`` with ``code`` cut off its end, written ("..., SW1A 1AA") or spelled ("...,
    S W one A one A A"); unchanged when the postcode is not at the end."""
    target = compact_code(code)
    words = list(re.finditer(r"[A-Za-z0-9]+", text))
    collected = ""
    for index in range(len(words) - 1, -1, -1):
        piece, _ = _code_piece([words[index].group(0).lower()], 0)
        if piece is None:
            break
        collected = compact_code(piece) + collected
        if collected == target:
            return text[: words[index].start()].rstrip(" ,.;:-")
        if not target.endswith(collected):
            break
    return text.strip()


def compact_code(value: str) -> str:
    """A postcode for comparing: letters and digits only, upper case, the letter O as zero."""
    return re.sub(r"[^A-Z0-9]", "", value.upper()).replace("O", "0")


# --- yes / no -----------------------------------------------------------------------------------

_YES = re.compile(
    r"\b(yes|yeah|yep|yup|ya|sure|correct|right|okay|ok|alright|all right|please do|go ahead|"
    r"do it|do that|absolutely|definitely|of course|certainly|exactly|affirmative|yes please|"
    r"that's right|sounds good|please go ahead)\b"
)
_NO = re.compile(
    r"\b(no|nope|nah|don't|do not|not now|not yet|no thanks|no thank you|cancel|wrong|"
    r"incorrect|negative|never mind|nevermind|rather not)\b"
)
_UNSURE = re.compile(r"\b(not sure|don't know|do not know|no idea|maybe|wait)\b")
_NEGATED_YES = re.compile(r"\b(?:not|isn't|is not|that's not|that is not) (?:right|correct|it)\b")


def yes_or_no(text: str) -> bool | None:
    """True for a yes, False for a no, None for neither, both or unsure ("not sure")."""
    said = " ".join(word for word in tokens(text) if word not in (",", "."))
    if _UNSURE.search(said):
        return None
    said = _NEGATED_YES.sub(" no ", said)
    yes = bool(_YES.search(said))
    no = bool(_NO.search(said))
    if yes == no:
        return None
    return yes


# --- dates --------------------------------------------------------------------------------------

MONTHS = {
    name: index
    for index, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
WEEKDAYS = {
    name: index
    for index, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_ORDINAL_UNITS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
}
_ORDINALS = {
    **_ORDINAL_UNITS,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
_DAY_NUMBER = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?$")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _day_at(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """A day of the month at ``words[i]``: "3rd", "3", "third", "twenty third"."""
    if i >= len(words):
        return None
    word = words[i]
    numeric = _DAY_NUMBER.match(word)
    if numeric:
        return int(numeric.group(1)), i + 1
    if word in ("twenty", "thirty") and i + 1 < len(words) and words[i + 1] in _ORDINAL_UNITS:
        return TENS[word] + _ORDINAL_UNITS[words[i + 1]], i + 2
    if word in _ORDINALS:
        return _ORDINALS[word], i + 1
    return None


def mentioned_date(text: str, today: date) -> date | None:
    """A date the caller mentions: "yesterday", "last Tuesday", "the 3rd of November",
    "November 3rd", "2024-11-03", "five days ago". Dates without a year are the latest such
    date not after ``today`` (callers talk about the past: orders, deliveries, scans)."""
    iso = _ISO_DATE.search(text)
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            return None
    words = [word for word in tokens(text) if word not in (",", ".")]
    relative = _relative_date(words, today)
    if relative is not None:
        return relative
    for i, word in enumerate(words):
        found = _calendar_date(words, i, today)
        if found is not None:
            return found
        if word in WEEKDAYS:
            back = (today.weekday() - WEEKDAYS[word]) % 7 or 7
            return today - timedelta(days=back)
    return None


def _relative_date(words: Sequence[str], today: date) -> date | None:
    said = " ".join(words)
    if "day before yesterday" in said:
        return today - timedelta(days=2)
    if "yesterday" in words:
        return today - timedelta(days=1)
    if "today" in words:
        return today
    ago = re.search(r"\b(\S+) (day|days|week|weeks) ago\b", said)
    if ago:
        count_word = ago.group(1)
        runs = digit_runs(count_word)
        count = 1 if count_word in ("a", "one") else int(runs[0]) if runs else None
        if count is None:
            return None
        days = count * (7 if ago.group(2).startswith("week") else 1)
        return today - timedelta(days=days)
    return None


def _calendar_date(words: Sequence[str], i: int, today: date) -> date | None:
    word = words[i]
    if word in MONTHS and (word != "may" or _day_at(words, i + 1) is not None):
        day = _day_at(words, i + 1)
        if day is None:
            return None
        return _latest(MONTHS[word], day[0], _year_at(words, day[1]), today)
    day = _day_at(words, i)
    if day is None:
        return None
    j = day[1] + (1 if day[1] < len(words) and words[day[1]] == "of" else 0)
    if j < len(words) and words[j] in MONTHS:
        return _latest(MONTHS[words[j]], day[0], _year_at(words, j + 1), today)
    return None


def _year_at(words: Sequence[str], i: int) -> int | None:
    if i < len(words) and words[i].isdigit() and len(words[i]) == 4:
        return int(words[i])
    return None


def _latest(month: int, day: int, year: int | None, today: date) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        candidate = date(today.year, month, day)
        if candidate > today:
            candidate = date(today.year - 1, month, day)
        return candidate
    except ValueError:
        return None
