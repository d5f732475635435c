"""German: closed-class words as callers say them and Whisper writes them."""

from __future__ import annotations

import re

from voice_agent.lexicon.table import Lexicon

_WORDS = {
    # yes, no, unsure
    "ja": "yes",
    "jawohl": "yes",
    "jap": "yes",
    "jep": "yes",
    "ja bitte": "yes please",
    "ja gerne": "yes please",
    "gerne": "please do",
    "genau": "exactly",
    "richtig": "right",
    "stimmt": "right",
    "korrekt": "correct",
    "sicher": "sure",
    "klar": "of course",
    "natürlich": "of course",
    "selbstverständlich": "of course",
    "auf jeden fall": "definitely",
    "in ordnung": "okay",
    "einverstanden": "okay",
    "machen sie das": "do it",
    "nein": "no",
    "nee": "no",
    "nö": "no",
    "nein danke": "no thanks",
    "passt nicht": "no",
    "danke": "thanks",
    "falsch": "wrong",
    "stimmt nicht": "not right",
    "das stimmt nicht": "that's not right",
    "nicht richtig": "not right",
    "nicht korrekt": "not correct",
    "auf keinen fall": "no",
    "lieber nicht": "rather not",
    "noch nicht": "not yet",
    "jetzt nicht": "not now",
    "abbrechen": "cancel",
    "vergessen sie es": "never mind",
    "weiß nicht": "don't know",
    "weiss nicht": "don't know",
    "weiß ich nicht": "don't know",
    "weiss ich nicht": "don't know",
    "ich weiß es nicht": "don't know",
    "ich weiss es nicht": "don't know",
    "keine ahnung": "no idea",
    "nicht sicher": "not sure",
    "vielleicht": "maybe",
    "moment mal": "wait",
    "warten sie": "wait",
    # corrections
    "ich meine": "i mean",
    "ich meinte": "i meant",
    "ich wollte sagen": "i meant",
    "ich sagte": "i said",
    "ich habe gesagt": "i said",
    "entschuldigung": "sorry",
    "verzeihung": "sorry",
    "tut mir leid": "sorry",
    "eigentlich": "actually",
    "vielmehr": "rather",
    # what the caller gives
    "bestellung": "order",
    "bestellungen": "order",
    "auftrag": "order",
    "bestellnummer": "order number",
    "auftragsnummer": "order number",
    "nummer": "number",
    "telefon": "phone",
    "telefonnummer": "phone number",
    "rufnummer": "phone number",
    "handy": "mobile",
    "handynummer": "phone number",
    "mobilnummer": "phone number",
    "e mail": "email",
    "email": "email",
    "mail": "email",
    "e mail adresse": "email address",
    "email adresse": "email address",
    "mailadresse": "email address",
    "emailadresse": "email address",
    "postleitzahl": "postcode",
    "plz": "postcode",
    "letzten": "last",
    "letzte": "last",
    "letzter": "last",
    "letztes": "last",
    "ersten": "first",
    "erste": "first",
    "ziffern": "digits",
    "stellen": "digits",
    "zahlen": "digits",
    "buchstaben": "letters",
    "endet auf": "ends with",
    "endet mit": "ends with",
    "hört auf mit": "ends with",
    "beginnt mit": "starts with",
    "fängt mit": "starts with",
    "fängt an mit": "starts with",
    "es ist": "it's",
    "das ist": "that's",
    # e-mail symbols and repeats
    "at": "at",
    "ät": "at",
    "klammeraffe": "at",
    "affenschwanz": "at",
    "punkt": "dot",
    "unterstrich": "underscore",
    "tiefstrich": "underscore",
    "bindestrich": "dash",
    "minus": "dash",
    "strich": "dash",
    "plus": "plus",
    "doppel": "double",
    "doppelt": "double",
    "dreifach": "triple",
    # days
    "gestern": "yesterday",
    "vorgestern": "day before yesterday",
    "heute": "today",
    "montag": "monday",
    "dienstag": "tuesday",
    "mittwoch": "wednesday",
    "donnerstag": "thursday",
    "freitag": "friday",
    "samstag": "saturday",
    "sonnabend": "saturday",
    "sonntag": "sunday",
}

_COPULAS = {
    "ist": "is",
    "sind": "are",
    "lautet": "is",
    "lauten": "are",
}

_PREAMBLE = {
    "mein": "my",
    "meine": "my",
    "meiner": "my",
    "meinem": "my",
    "meinen": "my",
    "der": "the",
    "die": "the",
    "das": "the",
    "den": "the",
    "dem": "the",
}

_LETTERS = {
    "be": "b",
    "bee": "b",
    "ce": "c",
    "ze": "c",
    "tse": "c",
    "de": "d",
    "ef": "f",
    "eff": "f",
    "ge": "g",
    "ha": "h",
    "jot": "j",
    "jott": "j",
    "ka": "k",
    "el": "l",
    "ell": "l",
    "em": "m",
    "en": "n",
    "pe": "p",
    "ku": "q",
    "kuh": "q",
    "er": "r",
    "es": "s",
    "ess": "s",
    "te": "t",
    "vau": "v",
    "fau": "v",
    "we": "w",
    "weh": "w",
    "ix": "x",
    "iks": "x",
    "ypsilon": "y",
    "üpsilon": "y",
    "zett": "z",
    "zet": "z",
    # E-mail addresses write umlauts and ß out.
    "ä": "a e",
    "ö": "o e",
    "ü": "u e",
    "a umlaut": "a e",
    "o umlaut": "o e",
    "u umlaut": "u e",
    "ß": "s s",
    "eszett": "s s",
    "scharfes s": "s s",
}

_MONTHS = {
    "januar": "january",
    "jänner": "january",
    "februar": "february",
    "märz": "march",
    "maerz": "march",
    "april": "april",
    "mai": "may",
    "juni": "june",
    "juli": "july",
    "august": "august",
    "september": "september",
    "oktober": "october",
    "november": "november",
    "dezember": "december",
}

_AGO = re.compile(
    r"\bvor\s+(\d+|einem|einer|eine|einen|zwei|zwo)\s+(tag|tagen|woche|wochen)\b", re.I
)

# Numbers below three stay words in text2num's output when said alone.
_SMALL = {"zwei": "2", "zwo": "2"}


def _ago(found: re.Match[str]) -> str:
    said = found.group(1).lower()
    count = said if said.isdigit() else _SMALL.get(said, "1")
    unit = "weeks" if found.group(2).lower().startswith("woche") else "days"
    return f"{count} {unit} ago"


_STARTS_WITH_AN = re.compile(r"\b(starts with(?: [a-z0-9]\b)+)\s+an\b", re.IGNORECASE)
"""The separable verb's tail ("fängt mit M A R an"): the letters end before "an"."""


LEXICON = Lexicon(
    code="de",
    small_numbers={"null": "0", "eins": "1", "ein": "1", "eine": "1", "zwei": "2", "zwo": "2"},
    words=_WORDS,
    preamble=_PREAMBLE,
    copulas=_COPULAS,
    letters=_LETTERS,
    spelling_joiners=frozenset({"wie"}),
    common_letters=frozenset({"es", "er", "ha"}),
    months=_MONTHS,
    turn_start={"passt": "okay", "warte": "wait"},
    conjunction="und",
    fixes=((_AGO, _ago), (_STARTS_WITH_AN, r"\1")),
    function_words=frozenset(
        """der die das den dem des ein eine einen einem einer und oder aber ist sind war bin
        hat habe haben hatte ich mich mir du sie ihr wir es mein meine meiner meinen
        nicht kein keine noch schon auch nur bitte danke hallo guten tag morgen abend ja nein
        wo wann wie was warum wer welche welcher mit von zu zum zur für auf bei nach aus über
        unter im am an vom bis seit immer heute gestern wurde wird werden kann können könnten
        möchte würde soll muss sollte dass wenn weil ob hier da dort leider bestellung paket
        lieferung geliefert angekommen bestellt rücksendung rechnung versand sendung noch
        erhalten bekommen zurück geld woche tage genau gerne""".split()
    ),
    marks="äöüß",
)
