"""Objecting to the recording in German, Spanish, French and Brazilian Portuguese.

One rule, each language's words. A clause objects when it holds a recording word about this
call ("aufnehmen", "Aufzeichnung"; "grabe", "grabación"; "enregistrez", "enregistrement";
"grave", "gravação") and an objecting word before it (a negation, "stop", "turn off",
"object", "refuse", "without"), with only words about the caller, the call, wanting, being
and asking politely before and between them: "bitte nicht aufnehmen", "no quiero que se grabe
la llamada", "ne m'enregistrez pas", "não quero que a ligação seja gravada". German puts the
objection after the recording word too ("nehmen Sie mich nicht auf", "schalten Sie die
Aufnahme aus", "ich bin mit der Aufzeichnung nicht einverstanden"); the others only "no" after
a noun ("grabación no, gracias").

The words allowed around the objection are a closed list, so a clause about something else
never objects: a noun ("meine Adresse", "la réclamation"), someone else ("ma commande n'a pas
été enregistrée", "vous n'avez pas enregistré"), or consent ("ich habe nichts dagegen", "no me
importa que se grabe", "ça ne me dérange pas", "não me importo"). A recording word followed by
an article or a preposition names what is recorded: only the call, the conversation or the
voice make it this call's recording ("die Aufnahme meiner Reklamation", "enregistrer mon
adresse", "grabado con mi nombre" are not). Spanish and Portuguese "registro" / "registrar"
are never recording words: they are the record of an order. Questions are not objections
("wird das aufgezeichnet?", "¿se está grabando?") unless they ask for something ("können Sie
die Aufnahme ausschalten?", "pouvez-vous couper l'enregistrement ?").

A clause opening with "dass" / "que" (or a German zu-infinitive) goes on the one before it:
"ich möchte nicht, dass das Gespräch aufgezeichnet wird".
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


@dataclass(frozen=True, slots=True)
class ObjectionWords:
    """One language's words for objecting to the call's recording."""

    recording: re.Pattern[str]
    """Forms of "record" and "recording" that can be about this call: infinitives,
    imperatives, subjunctives, participles and nouns; never a past tense ("grabaron")."""
    objecting: frozenset[str]
    """Words that turn the clause against recording when they come before the recording
    word."""
    objecting_after: frozenset[str]
    """Words that object after the recording word ("die Aufnahme aus", "gravação não")."""
    allowed: frozenset[str]
    """What may stand before and between: the caller, the call, wanting, being, politeness."""
    call_nouns: frozenset[str]
    """What is recorded when it is this call ("das Gespräch", "la llamada", "ma voix")."""
    linking: frozenset[str]
    """Articles, possessives and prepositions after a recording word: what follows them is
    what is recorded."""
    question: re.Pattern[str]
    """How a question opens (matched on the clause's words joined by single spaces)."""
    requests: frozenset[str]
    """Words that make a question a request ("können", "puede", "pouvez", "pode")."""
    continuing: frozenset[str]
    """Words opening a clause that goes on the one before ("dass", "que")."""
    joining: re.Pattern[str]
    """Where a sentence is cut into clauses besides punctuation ("und", "y", "et", "e")."""
    fillers: frozenset[str]
    """Words that say nothing besides the objection ("hallo", "vale", "bonjour", "oi")."""
    declining: re.Pattern[str]
    """Declining in the notice's own terms, counted only right after it ("lieber nicht")."""
    separable: frozenset[str] = frozenset()
    """German verb stems that record only with their particle later in the clause ("nehmen
    Sie das nicht auf", "zeichnen Sie das nicht auf")."""
    particles: frozenset[str] = frozenset()
    """The particles those stems need ("auf", "mit")."""
    continuing_forms: frozenset[str] = frozenset()
    """Recording words whose clause goes on the one before (German "aufzunehmen")."""
    asking: re.Pattern[str] | None = None
    """What turns a request into a question and adds nothing else (French "est-ce que")."""


@dataclass(frozen=True, slots=True)
class Clause:
    """A piece of a turn, as said (its punctuation taken off)."""

    text: str
    asked: bool
    """Said as a question: it ended with "?" or opened with "¿"."""


_MAX_BETWEEN = 8
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE = re.compile(r"([^.!?;,:]+)([.!?;,:]*)")


def words_of(text: str) -> list[str]:
    """The words of ``text``, lower-cased; apostrophes and hyphens part them ("m'enregistrez"
    is "m", "enregistrez"; "gravá-la" is "gravá", "la")."""
    return _WORD.findall(text.lower())


def clauses(text: str, words: ObjectionWords) -> list[Clause]:
    """``text`` cut at punctuation and joining words."""
    found: list[Clause] = []
    for match in _SENTENCE.finditer(text):
        sentence, ending = match.group(1), match.group(2)
        asked = "?" in ending or sentence.lstrip().startswith("¿")
        for part in words.joining.split(sentence):
            part = part.strip(" \t\n¿¡\"'«»")
            if words_of(part):
                found.append(Clause(part, asked))
    return found


def units(found: list[Clause], words: ObjectionWords) -> list[list[Clause]]:
    """Clauses grouped so that one continuing the one before ("..., dass ...") is read with
    it."""
    grouped: list[list[Clause]] = []
    for clause in found:
        said = words_of(clause.text)
        continues = said[0] in words.continuing or not words.continuing_forms.isdisjoint(said)
        if grouped and continues:
            grouped[-1].append(clause)
        else:
            grouped.append([clause])
    return grouped


def objects(unit: list[Clause], words: ObjectionWords) -> bool:
    """Whether clauses read together object to the call being recorded."""
    said = words_of(" ".join(clause.text for clause in unit))
    if not said or _is_question(said, unit, words):
        return False
    said = _without_asking(said, words)  # a request asked as a question: what it asks for
    return any(
        _recording_word(said, index, words)
        and (_objection_before(said, index, words) or _objection_after(said, index, words))
        for index in range(len(said))
    )


def declines(unit: list[Clause], words: ObjectionWords) -> bool:
    """Whether clauses read together decline the notice in its own terms ("lieber nicht")."""
    said = " ".join(words_of(" ".join(clause.text for clause in unit)))
    return words.declining.fullmatch(said) is not None


def said_nothing_else(rest: str, words: ObjectionWords) -> bool:
    """Whether what the caller said besides the objection is only greeting and filler."""
    known = words.fillers | words.allowed
    return all(word in known for word in words_of(rest))


def _is_question(said: list[str], unit: list[Clause], words: ObjectionWords) -> bool:
    """Asked, or opening as a question, and not a request ("can you ...?")."""
    if not (unit[-1].asked or unit[0].asked or words.question.match(" ".join(said))):
        return False
    return words.requests.isdisjoint(_without_asking(said, words)[:4])


def _without_asking(said: list[str], words: ObjectionWords) -> list[str]:
    """``said`` without the words that only make it a question ("est-ce que")."""
    asking = words.asking.match(" ".join(said)) if words.asking else None
    return said[len(asking.group().split()) :] if asking else said


def _recording_word(said: list[str], index: int, words: ObjectionWords) -> bool:
    """Whether ``said[index]`` records, and what it records is this call."""
    word = said[index]
    if word in words.separable:
        if words.particles.isdisjoint(said[index + 1 :]):
            return False
    elif not words.recording.fullmatch(word):
        return False
    return _about_the_call(said[index + 1 :], words)


def _about_the_call(after: list[str], words: ObjectionWords) -> bool:
    """Whether what follows a recording word leaves it about this call: nothing, or a word
    that is not an article or preposition, or those leading to the call ("des Gesprächs",
    "la llamada", "de cet appel"); not "meine Adresse", "de ma commande", "dans le système"."""
    position = 0
    while position < len(after) and after[position] in words.linking:
        position += 1
    if position == 0 or position == len(after):
        return True
    return after[position] in words.call_nouns


def _objection_before(said: list[str], index: int, words: ObjectionWords) -> bool:
    """An objecting word before ``index`` with only allowed words in between and before."""
    start = max(0, index - _MAX_BETWEEN - 1)
    for position in range(index - 1, start - 1, -1):
        word = said[position]
        if word in words.objecting:
            return _all_allowed(said[:position], words)
        if word not in words.allowed and not words.recording.fullmatch(word):
            return False
    return False


def _objection_after(said: list[str], index: int, words: ObjectionWords) -> bool:
    """An objecting word after ``index`` ("nehmen Sie mich nicht auf", "Aufnahme aus")."""
    if not _all_allowed(said[:index], words):
        return False
    for word in said[index + 1 : index + 2 + _MAX_BETWEEN]:
        if word in words.objecting_after:
            return True
        if word not in words.allowed:
            return False
    return False


def _all_allowed(said: list[str], words: ObjectionWords) -> bool:
    return all(
        word in words.allowed or word in words.objecting or words.recording.fullmatch(word)
        for word in said
    )


GERMAN = ObjectionWords(
    recording=re.compile(
        r"(?:auf(?:zu)?nehmen|aufgenommen|aufnimmt|aufnehmt|auf(?:zu)?zeichnen|aufgezeichnet"
        r"|aufzeichnet|mit(?:zu)?schneiden|mitgeschnitten|mitschneidet"
        r"|(?:gesprächs|anruf|ton|sprach)?(?:aufnahmen?|aufzeichnung(?:en)?)|mitschnitte?)"
    ),
    separable=_set("nehmen nehmt nimm nehme zeichnen zeichnet zeichne schneiden schneidet"),
    particles=_set("auf mit"),
    continuing_forms=_set("aufzunehmen aufzuzeichnen mitzuschneiden"),
    objecting=_set(
        "nicht nich nichts kein keine keinen keiner keines nie niemals ohne stopp stop stoppen "
        "stoppt beenden beendet beende abbrechen aus ausschalten ausmachen abschalten abstellen ab "
        "einstellen unterlassen hören hört hör aufhören aufzuhören löschen löscht lösche "
        "widerspreche widersprechen widerspricht widerspruch gegen verweigere verweigern lehne "
        "lehnen ablehnen verzichte verzichten untersage untersagen"
    ),
    objecting_after=_set(
        "widersprechen verweigern ablehnen untersagen nicht nich nichts stopp stoppen stoppt "
        "beenden beendet aus ausschalten ausmachen abschalten abstellen ab einstellen abbrechen "
        "löschen unterlassen"
    ),
    allowed=_set(
        "nein nee hier ich mich mir mein meine wir uns sie ihr ihnen du dich dir es das dies "
        "dieses diese dieser diesem den dem der die des gespräch gesprächs anruf anrufs telefonat "
        "telefonats unterhaltung stimme bitte danke möchte möchten will wollen würde würden wäre "
        "wären lieber gern gerne mag hätte hätten dass daß wenn werden sein bin sind können "
        "könnten kann könnte kannst könntest dürfen darf doch mal jetzt sofort einfach wirklich "
        "ganz gar überhaupt weiter weiterhin mehr auch bloß nur also ja hallo okay ok na äh ähm "
        "eigentlich damit einverstanden zu mit auf schalten machen stellen stimme sollen sollten "
        "soll alles irgendwas etwas"
    ),
    call_nouns=_set("gespräch gesprächs anruf anrufs telefonat telefonats unterhaltung stimme"),
    linking=_set(
        "der die das des dem den dieses diesen dieser diese diesem mein meine meines meiner meinem "
        "meinen unser unsere unseres unserer ihr ihre ihres ihrer ein eine eines einer von vom zu "
        "zur zum für in im ins bei beim über unter als auf am"
    ),
    question=re.compile(
        r"(?:wird|werden|wurde|wurden|ist|sind|war|waren|warum|wieso|weshalb|wie|wann|wo|was"
        r"|ob)\b"
    ),
    requests=_set("können könnten kannst könntest würden würdest dürfte bitte"),
    continuing=_set("dass daß wenn"),
    joining=re.compile(r"\s+(?:und|aber|sondern|dann)\s+|^(?:und|aber|dann)\s+", re.IGNORECASE),
    fillers=_set(
        "ok okay also ja nein hallo guten tag morgen abend danke bitte gut äh ähm hm na schön so "
        "klar alles einverstanden ordnung in"
    ),
    declining=re.compile(
        r"(?:nein )?(?:danke )?(?:lieber nicht|besser nicht|eher nicht|bitte nicht"
        r"|(?:das )?(?:möchte|will) ich (?:das )?(?:lieber )?nicht"
        r"|ich (?:möchte|will) (?:das )?(?:lieber )?nicht)(?: danke)?"
    ),
)

SPANISH = ObjectionWords(
    recording=re.compile(
        r"grab(?:ar(?:me|nos|la|lo|las|los|te)?|e|en|es|éis|eis|ad[oa]s?|ando"
        r"|[aá]ndo(?:me|nos|la|lo|las|los)|ara|aran|aras|ase|asen|aci[oó]n|aciones|adoras?)"
    ),
    objecting=_set(
        "no nada nunca jamás jamas ni sin pare paren parar detenga detengan detener deje dejen "
        "deja dejar dejes corte corten cortar apague apaguen apaga apagar quite quiten quita "
        "quitar desactive desactiven desactivar cancele cancelen cancelar elimine eliminen "
        "eliminar borre borren borrar opongo oponerme oponemos rechazo rechazamos niego contra "
        "basta"
    ),
    objecting_after=_set("no"),
    allowed=_set(
        "ocurra ocurran yo me nos se lo la le les que para pido pedimos ruego quiero quisiera "
        "queremos deseo prefiero preferiría preferiria prefiera estoy de acuerdo con doy damos mi "
        "mis permiso consentimiento autorizo acepto consiento ser sea sean quede queden quedar "
        "esta este esto eso esa ese el los las llamada llamadas conversación conversacion voz por "
        "favor porfa usted ustedes tú tu puede pueden podría podrían podria podrian puedes podrías "
        "podés hacer haga hace a al más mas ya ahora siga sigan seguir continúe continúen "
        "continuar sigas mejor gracias oiga mire hola buenas bueno vale señor señora señorita "
        "perdone disculpe pues eh sí si también tampoco nada todo toda en absoluto gustaría "
        "gustaria"
    ),
    call_nouns=_set("llamada llamadas conversación conversacion voz"),
    linking=_set(
        "el la los las esta este estas estos esa ese esas esos mi mis su sus nuestra nuestro una "
        "un de del en sobre con para al"
    ),
    question=re.compile(r"(?:está|están|qué|por qué|cómo|cuándo|dónde|quién|se está|se están)\b"),
    requests=_set(
        "puede pueden podría podrían podria podrian puedes podrías podés haga hace sería seria"
    ),
    continuing=_set("que"),
    joining=re.compile(r"\s+(?:y|pero|entonces|luego)\s+|^(?:y|pero|entonces)\s+", re.IGNORECASE),
    fillers=_set(
        "vale bueno hola sí si no gracias oiga mire pues eh bien perfecto ok okey claro buenas "
        "buenos días dias tardes noches de acuerdo señor señora muchas"
    ),
    declining=re.compile(
        r"(?:no )?(?:gracias )?(?:mejor no|(?:yo )?(?:prefiero|preferiría|preferiria) que no"
        r"|(?:yo )?(?:prefiero|preferiría|preferiria) no)(?: gracias)?"
    ),
)

FRENCH = ObjectionWords(
    recording=re.compile(
        r"enregistr(?:er|e|ez|ent|es|iez|ions|é|ée|és|ées|ee|es|ees|ement|ements|eur)"
    ),
    objecting=_set(
        "ne n pas non jamais sans plus aucun aucune arrêtez arrêter arrête arrêtes arretez arreter "
        "arrete stop stoppez stopper coupez couper coupe éteignez éteindre supprimez supprimer "
        "effacez effacer refuse refusons refuser oppose opposer opposons contre interrompez "
        "interrompre désactivez désactiver cessez cesser"
    ),
    objecting_after=_set("non"),
    allowed=_set(
        "veuillez accepte acceptons autorise consens je j me m moi nous on vous tu te t donne "
        "donnons veux voudrais voulons souhaite souhaiterais souhaitons préfère préférerais "
        "préférons prefere préférerions aimerais aime être etre sois soit soient suis d accord "
        "pour que qu ce c ça ca cela cet cette appel appels conversation échange voix la le l les "
        "ma mon notre s il plaît plait merci de du à a au bien vouloir pouvez pourriez peux "
        "pourrais pouvons y rien mieux oui bonjour madame monsieur euh alors bon svp"
    ),
    call_nouns=_set("appel appels conversation échange voix ça cela rien"),
    linking=_set(
        "le la l les ce cet cette ces mon ma mes notre nos votre vos un une des du de d dans sur "
        "en comme chez au"
    ),
    question=re.compile(r"(?:est ce|est il|est elle|pourquoi|comment|quand|où|qu est ce)\b"),
    requests=_set(
        "pouvez pourriez peux pourrais voulez voudriez pourrait pouvons possible merci svp"
    ),
    continuing=_set("que qu"),
    asking=re.compile(r"est ce qu(?:e)? "),
    joining=re.compile(r"\s+(?:et|mais|puis|alors)\s+|^(?:et|mais|alors)\s+", re.IGNORECASE),
    fillers=_set(
        "bonjour oui non merci bon alors euh ben bah ok d accord allô allo madame monsieur écoutez "
        "voilà bien parfait très beaucoup"
    ),
    declining=re.compile(
        r"(?:non )?(?:merci )?(?:je )?(?:préfère|préférerais|prefere|prefererais|préférerais"
        r"|aimerais mieux) (?:pas|que non|ne pas|plutôt pas|plutot pas|qu il ne le soit pas)"
        r"(?: merci)?"
        r"|(?:non )?(?:merci )?plut[oô]t (?:pas|non)(?: merci)?"
    ),
)

PORTUGUESE = ObjectionWords(
    recording=re.compile(
        r"grav(?:ar|arem|á|a|e|em|es|ad[oa]s?|ando|asse|assem|a[cç][aã]o|a[cç][oõ]es|ador)"
    ),
    objecting=_set(
        "não nao nunca jamais sem pare parem para parar desliga desligue desliguem desligar corta "
        "corte cortem cortar interrompa interrompe interromper apague apaga apagar exclua excluir "
        "cancele cancela cancelar recuso oponho contra nenhum nenhuma chega basta"
    ),
    objecting_after=_set("não nao"),
    allowed=_set(
        "eu me nos a o as os que quero queria gostaria prefiro preferia preferiria desejo aceito "
        "autorizo concordo com dou meu minha permissão permissao consentimento ser seja sejam "
        "fique fiquem ficar essa esse esta este isso isto ligação ligacao chamada conversa voz "
        "ligações por favor você voce vocês voces senhor senhora pode podem poderia poderiam dá da "
        "de do mais já ja agora continue continuem continuar seguir melhor obrigado obrigada oi "
        "olá ola alô alo bom tá ta ok né ne então entao sim também tambem nada pra"
    ),
    call_nouns=_set("ligação ligacao chamada conversa voz ligações"),
    linking=_set(
        "a o as os essa esse esta este minha meu nossa nosso uma um sua seu de da do das dos em na "
        "no nas pelo pela com"
    ),
    question=re.compile(
        r"(?:está|estão|será|por que|por quê|como|quando|onde|o que|vocês estão)\b"
    ),
    requests=_set("pode podem poderia poderiam dá daria consegue conseguem"),
    continuing=_set("que"),
    joining=re.compile(r"\s+(?:e|mas|então|entao|aí)\s+|^(?:e|mas|então|entao)\s+", re.IGNORECASE),
    fillers=_set(
        "oi olá ola alô alo bom boa tá ta ok né ne então entao sim não nao obrigado obrigada "
        "beleza certo tudo bem dia tarde noite"
    ),
    declining=re.compile(
        r"(?:não )?(?:obrigad[oa] )?(?:melhor não|(?:eu )?(?:prefiro|preferia|preferiria)"
        r" (?:que )?não)(?: obrigad[oa])?"
    ),
)

BY_LANGUAGE = {"de": GERMAN, "es": SPANISH, "fr": FRENCH, "pt": PORTUGUESE}
