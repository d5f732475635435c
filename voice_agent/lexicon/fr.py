"""French: closed-class words as callers say them and Whisper writes them."""

from __future__ import annotations

import re

from voice_agent.lexicon.table import Lexicon

_WORDS = {
    # yes, no, unsure
    "oui": "yes",
    "ouais": "yes",
    "oui merci": "yes please",
    "oui s'il vous plaît": "yes please",
    "d'accord": "okay",
    "entendu": "okay",
    "ça marche": "okay",
    "c'est bon": "okay",
    "exact": "exactly",
    "exactement": "exactly",
    "c'est exact": "that's right",
    "c'est ça": "that's right",
    "c'est correct": "that's right",
    "c'est juste": "that's right",
    "bien sûr": "of course",
    "tout à fait": "absolutely",
    "absolument": "absolutely",
    "certainement": "certainly",
    "volontiers": "yes please",
    "allez y": "go ahead",
    "allez-y": "go ahead",
    "parfait": "sounds good",
    "non": "no",
    "non merci": "no thanks",
    "merci": "thanks",
    "pas maintenant": "not now",
    "pas encore": "not yet",
    "faux": "wrong",
    "c'est faux": "wrong",
    "ce n'est pas": "that's not",
    "n'est pas": "is not",
    "ce n'est pas ça": "that's not right",
    "c'est pas ça": "that's not right",
    "ce n'est pas correct": "that's not right",
    "pas correct": "not correct",
    "incorrect": "incorrect",
    "surtout pas": "no",
    "pas du tout": "no",
    "plutôt pas": "rather not",
    "annuler": "cancel",
    "annulez": "cancel",
    "laissez tomber": "never mind",
    "laisse tomber": "never mind",
    "je ne sais pas": "don't know",
    "je sais pas": "don't know",
    "sais pas": "don't know",
    "pas sûr": "not sure",
    "pas sûre": "not sure",
    "peut être": "maybe",
    "aucune idée": "no idea",
    # corrections
    "je veux dire": "i mean",
    "je voulais dire": "i meant",
    "plutôt": "rather",
    "pardon": "sorry",
    "désolé": "sorry",
    "désolée": "sorry",
    "excusez moi": "sorry",
    "en fait": "actually",
    "j'ai dit": "i said",
    # what the caller gives
    "commande": "order",
    "commandes": "order",
    "numéro de commande": "order number",
    "numéro": "number",
    "téléphone": "phone",
    "numéro de téléphone": "phone number",
    "portable": "mobile",
    "mobile": "mobile",
    "courriel": "email",
    "e mail": "email",
    "email": "email",
    "mail": "email",
    "mél": "email",
    "adresse e mail": "email address",
    "adresse email": "email address",
    "adresse mail": "email address",
    "adresse électronique": "email address",
    "adresse courriel": "email address",
    "code postal": "postcode",
    "derniers": "last",
    "dernières": "last",
    "premiers": "first",
    "premières": "first",
    "premier": "first",
    "chiffres": "digits",
    "lettres": "letters",
    "se termine par": "ends with",
    "finit par": "ends with",
    "commence par": "starts with",
    "ça": "it",
    "elle commence par": "it starts with",
    "elle se termine par": "it ends with",
    "c'est": "it's",
    # e-mail symbols and repeats
    "arobase": "at",
    "arrobase": "at",
    "arobas": "at",
    "at": "at",
    "point": "dot",
    "tiret bas": "underscore",
    "tiret du bas": "underscore",
    "tiret du huit": "underscore",
    "underscore": "underscore",
    "souligné": "underscore",
    "tiret": "dash",
    "trait d'union": "dash",
    "plus": "plus",
    "double": "double",
    "triple": "triple",
    # days
    "hier": "yesterday",
    "avant hier": "day before yesterday",
    "aujourd'hui": "today",
    "lundi": "monday",
    "mardi": "tuesday",
    "mercredi": "wednesday",
    "jeudi": "thursday",
    "vendredi": "friday",
    "samedi": "saturday",
    "dimanche": "sunday",
}

_COPULAS = {
    "est": "is",
    "sont": "are",
}

_PREAMBLE = {
    "mon": "my",
    "ma": "my",
    "mes": "my",
    "le": "the",
    "la": "the",
    "les": "the",
    "l'": "the",
}

_LETTERS = {
    "bé": "b",
    "cé": "c",
    "dé": "d",
    "de": "d",
    "èf": "f",
    "ef": "f",
    "effe": "f",
    "gé": "g",
    "ache": "h",
    "hache": "h",
    "ji": "j",
    "gi": "j",
    "ka": "k",
    "èl": "l",
    "elle": "l",
    "el": "l",
    "èm": "m",
    "emme": "m",
    "em": "m",
    "èn": "n",
    "ène": "n",
    "enne": "n",
    "en": "n",
    "pé": "p",
    "ku": "q",
    "qu": "q",
    "cu": "q",
    "èr": "r",
    "erre": "r",
    "er": "r",
    "èss": "s",
    "esse": "s",
    "ès": "s",
    "es": "s",
    "té": "t",
    "vé": "v",
    "double vé": "w",
    "double v": "w",
    "ix": "x",
    "iks": "x",
    "i grec": "y",
    "igrec": "y",
    "zède": "z",
    "zed": "z",
}

_MONTHS = {
    "janvier": "january",
    "février": "february",
    "mars": "march",
    "avril": "april",
    "mai": "may",
    "juin": "june",
    "juillet": "july",
    "août": "august",
    "septembre": "september",
    "octobre": "october",
    "novembre": "november",
    "décembre": "december",
}

_AGO = re.compile(r"\bil y a\s+(\d+|un|une|deux)\s+(jours?|semaines?)\b", re.I)

# Numbers below three stay words in text2num's output when said alone.
_SMALL = {"deux": "2"}


def _ago(found: re.Match[str]) -> str:
    said = found.group(1).lower()
    count = said if said.isdigit() else _SMALL.get(said, "1")
    unit = "weeks" if found.group(2).lower().startswith("semaine") else "days"
    return f"{count} {unit} ago"


LEXICON = Lexicon(
    code="fr",
    small_numbers={"zéro": "0", "zero": "0", "un": "1", "une": "1", "deux": "2"},
    words=_WORDS,
    preamble=_PREAMBLE,
    copulas=_COPULAS,
    letters=_LETTERS,
    spelling_joiners=frozenset({"comme"}),
    common_letters=frozenset({"a", "y", "de", "elle", "en", "es", "el", "er", "cu", "qu"}),
    months=_MONTHS,
    conjunction="et",
    accents_matter=frozenset({"pas sur"}),
    turn_start={"attendez": "wait", "attends": "wait", "si": "yes"},
    fixes=((_AGO, _ago),),
    function_words=frozenset(
        """le la les l' un une des du de d' et ou mais est sont était été a ai avez avons ont
        je j' tu il elle nous vous ils elles on me m' moi te se s' mon ma mes ton ta votre vos
        notre ne n' pas plus rien jamais que qu' qui quoi quand où comment pourquoi quel
        quelle avec pour sans dans sur chez par depuis toujours encore déjà très aussi bien
        bonjour bonsoir merci oui non s'il plaît voudrais veux peux pouvez puis c' ce cette
        ça commande colis livraison livré reçu arrivé remboursement semaine aujourd'hui hier
        demain numéro adresse""".split()
    ),
    marks="àâçèêëîïôûùœ",
)
