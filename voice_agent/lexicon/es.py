"""Spanish: closed-class words as callers say them and Whisper writes them."""

from __future__ import annotations

import re

from voice_agent.lexicon.table import Lexicon

_WORDS = {
    # yes, no, unsure
    "sí": "yes",
    "sí por favor": "yes please",
    "claro": "of course",
    "claro que sí": "of course",
    "por supuesto": "of course",
    "desde luego": "of course",
    "de acuerdo": "okay",
    "está bien": "okay",
    "correcto": "correct",
    "exacto": "exactly",
    "exactamente": "exactly",
    "cierto": "right",
    "eso es": "that's right",
    "así es": "that's right",
    "perfecto": "sounds good",
    "adelante": "go ahead",
    "hágalo": "do it",
    "hazlo": "do it",
    "no gracias": "no thanks",
    "gracias": "thanks",
    "para nada": "no",
    "de ninguna manera": "no",
    "incorrecto": "incorrect",
    "no es correcto": "not correct",
    "no es así": "not right",
    "no está bien": "not right",
    "todavía no": "not yet",
    "aún no": "not yet",
    "ahora no": "not now",
    "mejor no": "rather not",
    "cancelar": "cancel",
    "cancela": "cancel",
    "olvídalo": "never mind",
    "no sé": "don't know",
    "no lo sé": "don't know",
    "no estoy seguro": "not sure",
    "no estoy segura": "not sure",
    "quizás": "maybe",
    "quizá": "maybe",
    "tal vez": "maybe",
    "a lo mejor": "maybe",
    "ni idea": "no idea",
    # corrections
    "quise decir": "i meant",
    "quiero decir": "i mean",
    "o sea": "i mean",
    "perdón": "sorry",
    "perdona": "sorry",
    "perdone": "sorry",
    "disculpa": "sorry",
    "disculpe": "sorry",
    "lo siento": "sorry",
    "en realidad": "actually",
    "dije": "i said",
    "he dicho": "i said",
    # what the caller gives
    "pedido": "order",
    "pedidos": "order",
    "número de pedido": "order number",
    "número del pedido": "order number",
    "número": "number",
    "teléfono": "phone",
    "número de teléfono": "phone number",
    "móvil": "mobile",
    "celular": "mobile",
    "número de móvil": "phone number",
    "correo": "email",
    "correo electrónico": "email",
    "email": "email",
    "e mail": "email",
    "mail": "email",
    "dirección de correo": "email address",
    "dirección de correo electrónico": "email address",
    "dirección de email": "email address",
    "código postal": "postcode",
    "últimos": "last",
    "últimas": "last",
    "primeros": "first",
    "primeras": "first",
    "primero": "first",
    "dígitos": "digits",
    "cifras": "digits",
    "números": "digits",
    "letras": "letters",
    "termina en": "ends with",
    "termina con": "ends with",
    "acaba en": "ends with",
    "empieza por": "starts with",
    "empieza con": "starts with",
    "comienza por": "starts with",
    "comienza con": "starts with",
    # e-mail symbols and repeats
    "arroba": "at",
    "punto": "dot",
    "guion bajo": "underscore",
    "guión bajo": "underscore",
    "barra baja": "underscore",
    "subrayado": "underscore",
    "guion": "dash",
    "guión": "dash",
    "más": "plus",
    "doble": "double",
    "triple": "triple",
    # days
    "ayer": "yesterday",
    "anteayer": "day before yesterday",
    "antier": "day before yesterday",
    "antes de ayer": "day before yesterday",
    "hoy": "today",
    "lunes": "monday",
    "martes": "tuesday",
    "miércoles": "wednesday",
    "jueves": "thursday",
    "viernes": "friday",
    "sábado": "saturday",
    "domingo": "sunday",
    # "o" is "or", never the English "oh" the parsers read as a zero ("es el 4 5 0 o 4 5 1")
    "o": "or",
}

_COPULAS = {
    "es": "is",
    "son": "are",
}

_PREAMBLE = {
    "mi": "my",
    "mis": "my",
    "el": "the",
    "la": "the",
    "los": "the",
    "las": "the",
}

_LETTERS = {
    "be": "b",
    "be larga": "b",
    "be alta": "b",
    "be grande": "b",
    "ce": "c",
    "de": "d",
    "efe": "f",
    "ge": "g",
    "hache": "h",
    "i latina": "i",
    "jota": "j",
    "ka": "k",
    "ele": "l",
    "eme": "m",
    "ene": "n",
    "eñe": "n",
    "pe": "p",
    "cu": "q",
    "erre": "r",
    "ere": "r",
    "ese": "s",
    "te": "t",
    "uve": "v",
    "ve": "v",
    "ve corta": "v",
    "ve baja": "v",
    "uve doble": "w",
    "doble uve": "w",
    "doble ve": "w",
    "doble u": "w",
    "equis": "x",
    "i griega": "y",
    "ye": "y",
    "zeta": "z",
    "ceta": "z",
}

_MONTHS = {
    "enero": "january",
    "febrero": "february",
    "marzo": "march",
    "abril": "april",
    "mayo": "may",
    "junio": "june",
    "julio": "july",
    "agosto": "august",
    "septiembre": "september",
    "setiembre": "september",
    "octubre": "october",
    "noviembre": "november",
    "diciembre": "december",
}

_AGO = re.compile(r"\bhace\s+(\d+|un|una|uno|dos)\s+(días?|dias?|semanas?)\b", re.I)

# Numbers below three stay words in text2num's output when said alone.
_SMALL = {"dos": "2"}


def _ago(found: re.Match[str]) -> str:
    said = found.group(1).lower()
    count = said if said.isdigit() else _SMALL.get(said, "1")
    unit = "weeks" if found.group(2).lower().startswith("semana") else "days"
    return f"{count} {unit} ago"


LEXICON = Lexicon(
    code="es",
    small_numbers={"cero": "0", "uno": "1", "una": "1", "un": "1", "dos": "2"},
    words=_WORDS,
    preamble=_PREAMBLE,
    copulas=_COPULAS,
    letters=_LETTERS,
    spelling_joiners=frozenset({"de", "como"}),
    common_letters=frozenset({"a", "o", "e", "y", "u", "de", "te", "ese", "ve", "ye"}),
    months=_MONTHS,
    conjunction="y",
    turn_start={"vale": "okay", "espera": "wait", "espere": "wait", "si": "yes"},
    accents_matter=frozenset({"si", "mas", "no se"}),
    fixes=((_AGO, _ago),),
    function_words=frozenset(
        """el la los las un una unos unas y o pero es son está están estaba fue ha he han
        hay mi mis tu su sus yo usted ustedes nosotros me te se lo le les nos que qué de del
        al en con por para sin sobre hasta desde cuando cuándo donde dónde como cómo cuál
        quién porque todavía aún ya muy más también hola buenos buenas días tardes gracias
        sí no pedido paquete envío entrega llegado recibido devolución dinero semana quiero
        quisiera necesito tengo puede puedo podría hacer este esta esto ese esa nada todo
        ayer hoy mañana claro vale""".split()
    ),
    marks="ñ",
)
