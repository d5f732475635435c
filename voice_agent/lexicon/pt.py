"""Portuguese (Brazil first, Portugal understood): closed-class words as callers say them."""

from __future__ import annotations

import re

from voice_agent.lexicon.table import Lexicon

_WORDS = {
    # yes, no, unsure
    "sim": "yes",
    "sim por favor": "yes please",
    "claro": "of course",
    "claro que sim": "of course",
    "com certeza": "definitely",
    "certo": "right",
    "correto": "correct",
    "exato": "exactly",
    "exatamente": "exactly",
    "isso mesmo": "that's right",
    "é isso": "that's right",
    "é isso aí": "that's right",
    "tá bom": "okay",
    "tá bem": "okay",
    "está bem": "okay",
    "está bom": "okay",
    "beleza": "okay",
    "de acordo": "okay",
    "perfeito": "sounds good",
    "pode sim": "go ahead",
    "pode fazer": "do it",
    "pode ser": "okay",
    "não": "no",
    "não obrigado": "no thanks",
    "não obrigada": "no thanks",
    "obrigado": "thanks",
    "obrigada": "thanks",
    "errado": "wrong",
    "incorreto": "incorrect",
    "não é isso": "that's not right",
    "não está certo": "not right",
    "não tá certo": "not right",
    "não está correto": "not correct",
    "de jeito nenhum": "no",
    "de forma alguma": "no",
    "melhor não": "rather not",
    "agora não": "not now",
    "ainda não": "not yet",
    "cancelar": "cancel",
    "cancela": "cancel",
    "deixa pra lá": "never mind",
    "esquece": "never mind",
    "não sei": "don't know",
    "sei lá": "don't know",
    "não tenho certeza": "not sure",
    "talvez": "maybe",
    "nenhuma ideia": "no idea",
    "não faço ideia": "no idea",
    "peraí": "wait",
    # corrections
    "quer dizer": "i mean",
    "quero dizer": "i mean",
    "eu quis dizer": "i meant",
    "quis dizer": "i meant",
    "desculpa": "sorry",
    "desculpe": "sorry",
    "perdão": "sorry",
    "na verdade": "actually",
    "aliás": "rather",
    "eu disse": "i said",
    # what the caller gives
    "pedido": "order",
    "pedidos": "order",
    "encomenda": "order",
    "número do pedido": "order number",
    "número de pedido": "order number",
    "número da encomenda": "order number",
    "número": "number",
    "telefone": "phone",
    "celular": "mobile",
    "telemóvel": "mobile",
    "número de telefone": "phone number",
    "número do telefone": "phone number",
    "número de celular": "phone number",
    "número do celular": "phone number",
    "e mail": "email",
    "email": "email",
    "mail": "email",
    "endereço de e mail": "email address",
    "endereço de email": "email address",
    "endereço eletrônico": "email address",
    "cep": "postcode",
    "código postal": "postcode",
    "últimos": "last",
    "últimas": "last",
    "primeiros": "first",
    "primeiras": "first",
    "primeiro": "first",
    "dígitos": "digits",
    "números": "digits",
    "letras": "letters",
    "termina com": "ends with",
    "termina em": "ends with",
    "começa com": "starts with",
    "começa por": "starts with",
    # e-mail symbols and repeats
    "arroba": "at",
    "ponto": "dot",
    "underline": "underscore",
    "underscore": "underscore",
    "sublinhado": "underscore",
    "traço baixo": "underscore",
    "hífen": "dash",
    "traço": "dash",
    "tracinho": "dash",
    "menos": "dash",
    "duplo": "double",
    "dobro": "double",
    "triplo": "triple",
    # days
    "ontem": "yesterday",
    "anteontem": "day before yesterday",
    "antes de ontem": "day before yesterday",
    "hoje": "today",
    "segunda feira": "monday",
    "terça feira": "tuesday",
    "quarta feira": "wednesday",
    "quinta feira": "thursday",
    "sexta feira": "friday",
    "sábado": "saturday",
    "domingo": "sunday",
    # "o" is the article, never the English "oh" the parsers read as a zero ("é o 4 5 0 6 7")
    "o": "the",
}

_COPULAS = {
    "é": "is",
    "são": "are",
}

_PREAMBLE = {
    "meu": "my",
    "minha": "my",
    "meus": "my",
    "minhas": "my",
    "o": "the",
    "a": "the",
    "os": "the",
    "as": "the",
}

_LETTERS = {
    "bê": "b",
    "be": "b",
    "cê": "c",
    "ce": "c",
    "dê": "d",
    "de": "d",
    "éfe": "f",
    "efe": "f",
    "gê": "g",
    "ge": "g",
    "agá": "h",
    "jota": "j",
    "cá": "k",
    "ka": "k",
    "éle": "l",
    "ele": "l",
    "eme": "m",
    "ene": "n",
    "pê": "p",
    "pe": "p",
    "quê": "q",
    "que": "q",
    "erre": "r",
    "esse": "s",
    "tê": "t",
    "te": "t",
    "vê": "v",
    "ve": "v",
    "dáblio": "w",
    "dábliu": "w",
    "xis": "x",
    "ípsilon": "y",
    "i grego": "y",
    "zê": "z",
    "ze": "z",
}

_MONTHS = {
    "janeiro": "january",
    "fevereiro": "february",
    "março": "march",
    "abril": "april",
    "maio": "may",
    "junho": "june",
    "julho": "july",
    "agosto": "august",
    "setembro": "september",
    "outubro": "october",
    "novembro": "november",
    "dezembro": "december",
}

_AGO_BEFORE = re.compile(r"\b(?:há|ha|faz)\s+(\d+|um|uma|dois|duas)\s+(dias?|semanas?)\b", re.I)
_AGO_AFTER = re.compile(r"\b(\d+|um|uma|dois|duas)\s+(dias?|semanas?)\s+atrás\b", re.I)
# "meia" (meia dúzia) is six in Brazilian phone numbers: a digit only among digits, said
# or written, so that text2num reads the whole run ("nove meia dois" -> "9 6 2").
# "uma meia" is a sock, "um e meia" one and a half: an article before it is no digit.
_DIGIT = r"(?:\d|zero|um|uma|dois|duas|três|tres|quatro|cinco|seis|sete|oito|nove|meia)\b"
_DIGIT_BEFORE = r"(?:\d|zero|dois|duas|três|tres|quatro|cinco|seis|sete|oito|nove)\b"
_MEIA_AFTER = re.compile(rf"(?<![^\W\d_])({_DIGIT_BEFORE}[\s,]*)meia\b", re.I)
_MEIA_BEFORE = re.compile(rf"\bmeia(?=[\s,]*{_DIGIT})", re.I)
# Bare weekdays are ordinals too ("segunda" = second): a day only after "na", "nesta" ...
_WEEKDAY = re.compile(
    r"\b(na|nesta|nessa|desde|última|ultima|de)\s+(segunda|terça|terca|quarta|quinta|sexta)\b",
    re.I,
)
_WEEKDAYS = {
    "segunda": "monday",
    "terça": "tuesday",
    "terca": "tuesday",
    "quarta": "wednesday",
    "quinta": "thursday",
    "sexta": "friday",
}

# Numbers below three stay words in text2num's output when said alone.
_SMALL = {"dois": "2", "duas": "2"}


def _ago(found: re.Match[str]) -> str:
    said = found.group(1).lower()
    count = said if said.isdigit() else _SMALL.get(said, "1")
    unit = "weeks" if found.group(2).lower().startswith("semana") else "days"
    return f"{count} {unit} ago"


def _weekday(found: re.Match[str]) -> str:
    return f"{found.group(1)} {_WEEKDAYS[found.group(2).lower()]}"


LEXICON = Lexicon(
    code="pt",
    small_numbers={"zero": "0", "um": "1", "uma": "1", "dois": "2", "duas": "2"},
    words=_WORDS,
    preamble=_PREAMBLE,
    copulas=_COPULAS,
    letters=_LETTERS,
    spelling_joiners=frozenset({"de", "como"}),
    common_letters=frozenset({"o", "a", "e", "de", "que", "ele", "esse", "te", "ve"}),
    never_letters=frozenset({"é"}),
    months=_MONTHS,
    turn_start={"espera": "wait", "espere": "wait"},
    conjunction="e",
    accents_matter=frozenset({"e", "ha", "a", "o", "as", "os", "e isso", "e isso ai"}),
    before_numbers=(
        (_MEIA_BEFORE, "seis"),
        (_MEIA_AFTER, r"\g<1>seis"),
        (_MEIA_BEFORE, "seis"),  # "meia meia" at a run's end: the first, then the second
    ),
    fixes=(
        (_AGO_BEFORE, _ago),
        (_AGO_AFTER, _ago),
        (_WEEKDAY, _weekday),
    ),
    function_words=frozenset(
        """o a os as um uma uns umas e ou mas é são está estão estava foi era tem têm tinha
        há eu você vocês ele ela nós me se lhe meu minha meus minhas seu sua de do da dos
        das no na nos nas em com por pelo pela para pra sem sobre até desde que quando onde
        como qual quem porque ainda já muito mais também não sim olá oi bom boa dia tarde
        noite obrigado obrigada pedido encomenda entrega chegou recebi devolução dinheiro
        semana quero queria preciso tenho pode posso poderia fazer este esta isso isto esse
        essa nada tudo ontem hoje amanhã""".split()
    ),
    marks="ãõçâêô",
)
