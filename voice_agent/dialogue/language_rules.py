"""The few rules understanding keeps per language; the classifier does the rest.

English has nlu's rules. German, Spanish, French and (Brazilian) Portuguese have only what
must not wait for a classifier's judgement, or what it cannot see:

- the decisive control requests: a person, repeat, slower, goodbye (their phrases hardly mean
  anything else, and a caller who asks for one must get it);
- thanks (an answer, not a request) and frustration (the engine acknowledges it);
- a clause that calls a request off ("bitte nicht stornieren", "não cancela");
- where a turn of two requests breaks into clauses ("und", "y", "et", "e"; "außerdem",
  "además", "aussi", "também"), and the first words of a clause that opens a question.

Patterns are written without accents and matched on the text folded the same way (lower
case, accents and punctuation dropped): Whisper writes "können", a typed chat "koennen" or
"konnen", and a transcript's punctuation varies.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from voice_agent.dialogue import nlu
from voice_agent.dialogue.nlu import Intent

LANGUAGES = ("de", "es", "fr", "pt")
"""The languages with rules here (English's are nlu's)."""


def fold(text: str) -> str:
    """Lower case, no accents, "ß" as "ss", words separated by single spaces; apostrophes
    inside words stay ("c'est", "qu'est")."""
    lowered = text.lower().replace("’", "'").replace("ß", "ss")
    plain = "".join(
        char for char in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(char)
    )
    words = re.findall(r"[^\W_]+(?:'[^\W_]+)*", plain)
    return " ".join(words)


def _any(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


def _clause_breaks(joiners: str) -> re.Pattern[str]:
    """Sentence ends (with a joining word after one: "? Et aussi,"), joining words, commas."""
    return re.compile(
        rf"(?<=[.?!;])\s+(?:(?:{joiners})\b\s*,?\s*)?"
        rf"|\s*,?\s+\b(?:{joiners})\b\s*,?\s*"
        r"|\s*,\s*",
        re.IGNORECASE,
    )


@dataclass(frozen=True, slots=True)
class Rules:
    """One language's rules (patterns over ``fold``-ed text, except ``clause_break``)."""

    decisive: tuple[tuple[Intent, re.Pattern[str]], ...]
    """Tried in order; the first match wins (a person first, as in nlu)."""
    complaint: re.Pattern[str]
    """The caller names a complaint ("ich möchte mich beschweren"), not only anger."""
    thanks: re.Pattern[str]
    frustrated: re.Pattern[str]
    called_off: re.Pattern[str]
    clause_break: re.Pattern[str]
    """Over the text as said (case-insensitive): joining words where a new request may start."""
    openers: frozenset[str]
    """First words (folded) of a short piece that opens the next clause ("und können sie")."""


_UNTIL_END = (
    r"(?: (?:bitte|por favor|s'il vous plait|s'il te plait|danke|gracias|merci|obrigad[oa]))*$"
)
"""A phrase that ends the turn, but for "please" and "thanks" ("nicht verstanden, bitte")."""

GERMAN = Rules(
    decisive=(
        (
            Intent.HUMAN,
            _any(
                r"(?:echte[nmr]?|richtige[nmr]?|lebende[nmr]?) (?:person|mensch(?:en)?)",
                r"mensch(?:en)?",
                r"(?<!uber )(?:einem|einer|ihrem|ihrer|einen|eine) (?:mitarbeiter(?:in)?|"
                r"sachbearbeiter(?:in)?|berater(?:in)?|kollegen|kollegin|person|"
                r"ansprechpartner(?:in)?)",
                r"mit (?:jemandem|jemand|wem) (?:\w+ )?(?:sprechen|reden)",
                r"(?:verbinden|stellen) sie mich",
                r"(?:vorgesetzten|chef|chefin|supervisor|operator|teamleiter(?:in)?)",
                r"(?:zum|mit dem|an den) (?:kundenservice|kundendienst)",
                r"ruckruf",
                r"(?:mich )?zuruckrufen",
                r"mitarbeiter bitte",
            ),
        ),
        (
            Intent.SLOWER,
            _any(r"langsam(?:er)?", r"(?:zu|so) schnell(?! kaputt)"),
        ),
        (
            Intent.REPEAT,
            _any(
                r"wiederholen",
                r"wie bitte",
                r"^(?:wie|was|ha|hae)$",
                r"(?:nicht|nichts) (?:verstanden|mitbekommen|gehort)" + _UNTIL_END,
                r"was haben sie (?:gerade |eben )?gesagt",
                r"wie war (?:das|die \w+)(?: nochmal| noch mal| noch einmal)?" + _UNTIL_END,
                r"(?:sagen sie|sag) (?:das |es )?(?:bitte )?(?:nochmal|noch mal|noch einmal)",
                r"^(?:bitte )?(?:nochmal|noch mal|noch einmal)" + _UNTIL_END,
            ),
        ),
        (
            Intent.GOODBYE,
            _any(
                r"tschuss",
                r"tschau",
                r"ciao",
                r"auf wiedersehen",
                r"auf wiederhoren",
                r"wiederhoren",
                r"das (?:wars|war es|war alles|ist alles)(?: (?:fur heute|von meiner seite))?"
                + _UNTIL_END,
                r"sonst nichts",
                r"nichts weiter",
                r"(?:schonen|schones) (?:tag|abend|wochenende)",
                r"gute nacht",
                r"ich leg(?:e)? (?:jetzt |dann |gleich )?auf",
                r"bis (?:dann|bald|spater)" + _UNTIL_END,
                r"machen sie es gut",
                r"machs gut",
            ),
        ),
    ),
    complaint=_any(r"beschwer\w*", r"beschwerde"),
    thanks=re.compile(
        r"^(?:(?:ok|okay|gut|super|prima|perfekt|toll|alles klar|ach so|ah|ja)\s)*"
        r"(?:danke|dankeschon|vielen dank|herzlichen dank|besten dank)\b"
    ),
    frustrated=_any(
        r"unverschamt\w*",
        r"frechheit",
        r"katastroph\w*",
        r"skandal\w*",
        r"unmoglich",
        r"lacherlich",
        r"inakzeptabel",
        r"nase voll",
        r"(?:es )?reicht mir",
        r"sauer",
        r"wutend",
        r"verargert",
        r"genervt",
        r"schlimmste\w*",
        r"schlechteste\w*",
        r"mist",
        r"schei\w*",
        r"verdammt\w*",
        r"zum (?:dritten|vierten|funften|zehnten|x ten) mal",
        r"wie oft (?:noch|denn noch)",
        r"(?:keiner|niemand) (?:hilft|antwortet|meldet sich|kummert sich)",
        r"saftladen",
        r"abzocke",
        r"betrug",
        r"unfassbar",
        r"unglaublich",
        r"sofort",
    ),
    called_off=re.compile(
        r"^(?:(?:nein|ach|moment|doch|also|bitte|sorry|entschuldigung)\s)*"
        r"(?:nicht|kein bedarf|nicht notig|sie brauchen (?:es |das )?nicht|"
        r"(?:stornieren|schicken|senden|versenden|verschicken|andern|tauschen|machen) sie "
        r"(?:es |das |die bestellung |sie )?(?:bitte )?nicht)\b"
    ),
    clause_break=_clause_breaks(
        r"und au(?:ß|ss)erdem|und dann|und noch (?:was|etwas)|und auch|ach und"
        r"|au(?:ß|ss)erdem|zudem|und|auch noch|plus"
    ),
    openers=frozenset(
        "konnen konnten kann konnte wurden wurde wird ist sind haben hat gibt bitte ich "
        "wo wann wie was wer warum wieso weshalb welche welcher welches".split()
    ),
)

SPANISH = Rules(
    decisive=(
        (
            Intent.HUMAN,
            _any(
                r"(?:hablar|comunicarme|comunicar|hable) con (?:una persona|alguien|un humano|"
                r"un agente|un asesor|un operador|una operadora|un encargado|el encargado|"
                r"la encargada|su supervisor|un supervisor|el supervisor|el gerente|su jefe|"
                r"el jefe|un companero|una companera|su companero)",
                r"pas(?:e|a|ar|en)(?:me|nos)? con",
                r"persona (?:real|de verdad)",
                r"humano",
                r"operador(?:a)?",
                r"supervisor(?:a)?",
                r"encargad[oa]",
                r"asesor(?:a)?",
                r"agente",
                r"atencion al cliente",
                r"(?:me )?(?:llame|llamen|devuelva la llamada|devuelvan la llamada)",
                r"me (?:puede|pueden|podria|podrian) llamar",
            ),
        ),
        (
            Intent.SLOWER,
            _any(
                r"(?:mas|muy|tan|demasiado) (?:despacio|lento|rapido|deprisa)",
                r"despacio",
                r"mas lento",
            ),
        ),
        (
            Intent.REPEAT,
            _any(
                r"repet\w*",
                r"repit\w*",
                r"como (?:dice|dijo|dices|has dicho|ha dicho)",
                r"^(?:perdon|como|que|eh|mande)$",
                r"no (?:le |te |lo |la )?(?:he |lo )?(?:entendi|entendido|escuche|escuchado|oi|"
                r"capte|pille)(?: bien| nada)?" + _UNTIL_END,
                r"(?:^|dig\w+ |dime )otra vez" + _UNTIL_END,
                r"una vez mas",
                r"que (?:ha|has|me ha|me has) dicho",
                r"que dijo",
                r"que dijiste",
            ),
        ),
        (
            Intent.GOODBYE,
            _any(
                r"adios",
                r"chao",
                r"chau",
                r"hasta (?:luego|pronto|manana|la proxima)",
                r"eso (?:es|seria|era) todo",
                r"es todo" + _UNTIL_END,
                r"nada mas(?: por (?:ahora|hoy))?" + _UNTIL_END,
                r"que (?:tenga|tengas|tengan) (?:un )?(?:buen|buenos|buena|buenas|feliz) \w+",
                r"gracias(?: \w+)? (?:buen dia|buenas tardes|buenas noches)$",
                r"(?:ya )?cuelgo",
                r"voy a colgar",
                r"nos vemos",
                r"cuidese",
                r"cuidate",
            ),
        ),
    ),
    complaint=_any(r"queja\w*", r"quejarme", r"reclamacion formal", r"hoja de reclamaciones"),
    thanks=re.compile(
        r"^(?:(?:ok|okay|vale|bueno|perfecto|genial|muy bien|ah|si|claro)\s)*"
        r"(?:gracias|muchas gracias|mil gracias|muchisimas gracias)\b"
    ),
    frustrated=_any(
        r"verguenza",
        r"inaceptable",
        r"ridicul\w*",
        r"indignante",
        r"hart[oa]s?",
        r"furios[oa]",
        r"enfadad[oa]",
        r"enojad[oa]",
        r"cabread[oa]",
        r"pesim[oa]",
        r"(?:el|la|lo) peor",
        r"desastre",
        r"estafa\w*",
        r"una broma",
        r"mierda",
        r"joder",
        r"carajo",
        r"nadie (?:me )?(?:ayuda|contesta|responde|soluciona)",
        r"(?:tercera|cuarta|quinta|decima) vez",
        r"cuantas veces",
        r"increible",
        r"inmediatamente",
        r"ya mismo",
        r"de una vez",
    ),
    called_off=re.compile(
        r"^(?:(?:no|pero|bueno|mejor|espere|perdon|oiga)\s)*"
        r"(?:no (?:hace falta|es necesario|hay que)|ya no (?:hace falta|quiero que)|"
        r"no (?:lo |la |me )?(?:cancele|cancelen|cambie|cambien|envie|envien|mande|manden)\b)"
    ),
    clause_break=_clause_breaks(
        r"y tambi[eé]n|y adem[aá]s|y luego|y otra cosa|otra cosa|ah y"
        r"|adem[aá]s|tambi[eé]n|y|e"
    ),
    openers=frozenset(
        "puede pueden podria podrian puedo me quiero quisiera necesito donde cuando como que "
        "cual cuanto por hay es esta tengo".split()
    ),
)

FRENCH = Rules(
    decisive=(
        (
            Intent.HUMAN,
            _any(
                r"(?:parler|discuter) (?:a|avec) (?:un|une|quelqu'un|quelqu un|votre|le|la|"
                r"l'un|l'une)(?: de vos)? ?(?:humain|conseiller|conseillere|personne|responsable|"
                r"superieur|collegue|agent|operateur|operatrice|vrai|vraie|reel|reelle)?",
                r"humain",
                r"conseill(?:er|ere)",
                r"operat(?:eur|rice)",
                r"(?:votre |au |le |un )responsable",
                r"superieur",
                r"vraie personne",
                r"personne (?:reelle|physique)",
                r"passez moi",
                r"mettez moi en relation",
                r"me rappel(?:er|ez|le|lent)",
                r"un agent",
                r"(?:au|avec le|moi le|joindre le) service client\w*",
            ),
        ),
        (
            Intent.SLOWER,
            _any(
                r"(?:plus|moins) (?:lentement|vite)",
                r"lentement",
                r"trop (?:vite|rapide)",
                r"pas (?:si|trop) vite",
                r"doucement",
            ),
        ),
        (
            Intent.REPEAT,
            _any(
                r"repet\w*",
                r"redire",
                r"redites",
                r"^(?:pardon|comment|quoi|hein|hein quoi)$",
                r"(?:pas|mal) (?:bien )?(?:compris|entendu|saisi)" + _UNTIL_END,
                r"encore une fois",
                r"une fois de plus",
                r"(?:qu'est ce que|qu est ce que) vous (?:avez|venez de) dit",
                r"vous (?:disiez|avez dit) quoi",
            ),
        ),
        (
            Intent.GOODBYE,
            _any(
                r"au revoir",
                r"salut" + _UNTIL_END,
                r"a (?:bientot|plus tard|la prochaine|plus)" + _UNTIL_END,
                r"c'est tout(?: pour (?:moi|aujourd'hui|le moment))?" + _UNTIL_END,
                r"rien d'autre",
                r"rien de plus",
                r"bonne (?:journee|soiree|fin de journee|nuit)",
                r"je (?:vais )?raccroche\w*",
                r"bye",
            ),
        ),
    ),
    complaint=_any(r"plainte", r"me plaindre", r"porter plainte"),
    thanks=re.compile(
        r"^(?:(?:ok|okay|d'accord|super|parfait|tres bien|ah|bon|oui|genial)\s)*"
        r"(?:merci)\b"
    ),
    frustrated=_any(
        r"honte\w*",
        r"scandal\w*",
        r"inadmissible",
        r"inacceptable",
        r"ridicule",
        r"(?:en )?(?:ai|a) marre",
        r"ras le bol",
        r"furieu(?:x|se)",
        r"en colere",
        r"enerv\w*",
        r"nul(?:le)?",
        r"(?:le|la) pire",
        r"lamentable",
        r"catastroph\w*",
        r"arnaqu\w*",
        r"escroc\w*",
        r"merde",
        r"putain",
        r"personne ne (?:m'aide|repond|rappelle|me repond|fait rien)",
        r"combien de fois",
        r"(?:troisieme|quatrieme|cinquieme|dixieme) fois",
        r"incroyable",
        r"immediatement",
        r"tout de suite",
    ),
    called_off=re.compile(
        r"^(?:(?:non|mais|en fait|attendez|pardon|finalement)\s)*"
        r"(?:pas besoin|inutile de|n'annulez pas|n'annule pas|"
        r"ne (?:l'|le |la |les )?(?:annulez|annule|changez|change|modifiez|modifie|envoyez|"
        r"envoie|renvoyez|expediez) pas|n'envoyez pas|n'expediez pas)"
    ),
    clause_break=_clause_breaks(
        r"et aussi|et puis|et en plus|et autre chose|autre chose|ah et|oh et"
        r"|en plus|de plus|aussi|[ée]galement|et"
    ),
    openers=frozenset(
        "est pouvez vous je j'ai j'aimerais ou quand comment quel quelle pourquoi qui c'est "
        "il ca pourriez".split()
    ),
)

PORTUGUESE = Rules(
    decisive=(
        (
            Intent.HUMAN,
            _any(
                r"(?:falar|conversar) com (?:um |uma |o |a |seu |sua )?(?:atendente|humano|"
                r"pessoa|gerente|supervisor(?:a)?|responsavel|operador(?:a)?|chefe|colega|"
                r"alguem)",
                r"atendente",
                r"humano",
                r"pessoa (?:de verdade|real)",
                r"gerente",
                r"supervisor(?:a)?",
                r"(?:me )?(?:transfere|transfira|passa|passe) (?:pra|para|pro|pros|com)",
                r"(?:me )?ligar de volta",
                r"retornar a ligacao",
                r"atendimento (?:ao cliente|humano)",
            ),
        ),
        (
            Intent.SLOWER,
            _any(
                r"(?:mais|muito|tao|bem) (?:devagar|rapido|depressa)",
                r"devagar",
                r"rapido demais",
            ),
        ),
        (
            Intent.REPEAT,
            _any(
                r"repet\w*",
                r"(?:fala|diz|diga|fale) (?:isso )?de novo",
                r"^(?:como|o que|ha|hein|que)$",
                r"nao (?:te |lhe |o |a )?(?:entendi|escutei|ouvi|peguei)(?: direito| bem| nada)?"
                + _UNTIL_END,
                r"^de novo" + _UNTIL_END,
                r"mais uma vez",
                r"o que (?:voce|vc|o senhor|a senhora) (?:disse|falou)",
                r"como e que e",
            ),
        ),
        (
            Intent.GOODBYE,
            _any(
                r"tchau",
                r"ate (?:mais|logo|a proxima|breve|amanha)",
                r"e so isso",
                r"so isso(?: mesmo)?" + _UNTIL_END,
                r"mais nada" + _UNTIL_END,
                r"tenha um bom (?:dia|fim de semana)",
                r"tenha uma boa (?:tarde|noite)",
                r"(?:obrigad[oa]|valeu)(?: \w+)? (?:bom dia|boa tarde|boa noite)$",
                r"vou desligar",
                r"falou" + _UNTIL_END,
                r"se cuida",
            ),
        ),
    ),
    complaint=_any(
        r"reclamar (?:d[oa]s?|com voces|de voces)",
        r"reclamacao formal",
        r"reclame aqui",
        r"fazer uma reclamacao$",
    ),
    thanks=re.compile(
        r"^(?:(?:ok|okay|ta bom|beleza|otimo|perfeito|legal|ah|sim|certo)\s)*"
        r"(?:obrigad[oa]|muito obrigad[oa]|brigad[oa]|valeu)\b"
    ),
    frustrated=_any(
        r"absurdo",
        r"vergonha",
        r"inaceitavel",
        r"ridicul\w*",
        r"saco cheio",
        r"cansad[oa] de",
        r"irritad[oa]",
        r"furios[oa]",
        r"brav[oa]",
        r"pessim[oa]",
        r"(?:o|a) pior",
        r"lixo",
        r"palhacada",
        r"descaso",
        r"golpe",
        r"merda",
        r"porra",
        r"ninguem (?:me )?(?:ajuda|responde|resolve)",
        r"quantas vezes",
        r"(?:terceira|quarta|quinta|decima) vez",
        r"inacreditavel",
        r"agora mesmo",
        r"imediatamente",
        r"reclame aqui",
    ),
    called_off=re.compile(
        r"^(?:(?:nao|mas|ah|espera|peraí|perai|desculpa)\s)*"
        r"(?:nao precisa|nao (?:\w+ )?(?:cancela|cancele|cancelem|muda|mude|troca|troque|envia|"
        r"envie|mande|manda)\b)"
    ),
    clause_break=_clause_breaks(
        r"e tamb[eé]m|e depois|e outra coisa|outra coisa|mais uma coisa|ah e"
        r"|al[eé]m disso|tamb[eé]m|e"
    ),
    openers=frozenset(
        "pode podem poderia voce voces eu quero queria preciso onde cade quando como qual "
        "quanto por tem e ta da".split()
    ),
)

RULES: dict[str, Rules] = {"de": GERMAN, "es": SPANISH, "fr": FRENCH, "pt": PORTUGUESE}


def rules_for(language: str) -> Rules:
    """A language's rules; a clear error for one without them."""
    try:
        return RULES[language]
    except KeyError:
        raise ValueError(
            f"no understanding rules for language {language!r} "
            f"(rules for: en, {', '.join(RULES)})"
        ) from None


def decisive(text: str, language: str) -> Intent | None:
    """The control request (a person, repeat, slower, goodbye) ``text`` names, if any."""
    said = fold(text)
    for intent, pattern in rules_for(language).decisive:
        if pattern.search(said):
            return intent
    return None


def named(text: str, language: str) -> Intent | None:
    """What the rules name in ``text``: a control request, else a complaint, else None."""
    found = decisive(text, language)
    if found is None and rules_for(language).complaint.search(fold(text)):
        return Intent.COMPLAINT
    return found


def called_off(text: str, language: str) -> bool:
    """A clause that calls a request off ("nicht stornieren, nur die adresse ändern")."""
    return bool(rules_for(language).called_off.search(fold(text)))


_NOT_SHOUTED = frozenset(
    {"DHL", "UPS", "USPS", "TNT", "DPD", "GLS", "SEUR", "MRW", "CTT", "IVA", "TVA", "MWST", "CNPJ"}
)
"""Carriers and tax names written in capitals, not shouted."""


def shouted(text: str) -> bool:
    """A word of four or more letters in capitals (a chat caller shouting): "es ist WEG"."""
    return any(
        word.isupper() and word not in _NOT_SHOUTED for word in re.findall(r"[^\W\d_]{4,}", text)
    )


_GREETING_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("hi hello hey hiya there good morning afternoon evening day um uh oh".split()),
    "de": frozenset("hallo hi hey guten tag morgen abend gruss gott servus moin ahm aeh".split()),
    "es": frozenset("hola buenas buenos dias tardes noches buen dia eh oye que tal".split()),
    "fr": frozenset("bonjour bonsoir salut allo coucou euh ah".split()),
    "pt": frozenset("ola oi bom dia boa tarde noite alo ah tudo bem".split()),
}
"""Words a greeting is made of. "Tudo bem" is here: alone it is a greeting, not a goodbye."""


def is_greeting(text: str, language: str) -> bool:
    """Only a greeting ("Hi there.", "Guten Tag", "Olá, tudo bem?"): the call's opening,
    never its goodbye, whatever the classifier reads into so short a turn."""
    words = fold(text).split()
    known = _GREETING_WORDS.get(language, _GREETING_WORDS["en"])
    return bool(words) and all(word in known for word in words)


def is_thanks(text: str, language: str) -> bool:
    """Only thanks ("vielen dank", "muchas gracias", "merci beaucoup", "obrigada"), no
    request the rules name in it."""
    if language == "en":
        return nlu.is_thanks(text)
    return named(text, language) is None and bool(rules_for(language).thanks.search(fold(text)))


def is_frustrated(text: str, language: str) -> bool:
    """Whether the caller sounds angry or fed up, in their language."""
    if language == "en":
        return nlu.is_frustrated(text)
    return shouted(text) or bool(rules_for(language).frustrated.search(fold(text)))
