"""Product questions, answered only from the catalogue's attributes (never invented).

Product names are matched fuzzily (rapidfuzz) word by word, so "the earbuds", "that dashcam"
and Whisper's "power-bank" find their product; the question's words pick the attributes to
read out. Where the catalogue has no answer, the agent says so and offers a person.

A product is found by any of its names: the catalogue's and the shop's name for it in each
language ("Kaffeebecher"), accents aside (Whisper writes "ceramica" as often as "cerámica").
It is named, and its attribute values read, in the call's language where the shop gave them.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from babel import Locale
from rapidfuzz import fuzz, process

from voice_agent.dialogue import entities
from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.replies import Speech
from voice_agent.dialogue.state import Awaiting, PendingHandoff
from voice_agent.store.views import ProductView

logger = logging.getLogger(__name__)

_MATCH = 85.0
"""rapidfuzz ratio (0..100) for two words to count as the same ("earbud" ~ "earbuds")."""
_STOP: dict[str, frozenset[str]] = {
    "en": frozenset("a an and the for to of with in on by x".split()),
    "de": frozenset(
        "der die das den dem des ein eine einer und fur mit von zu im in aus x".split()
    ),
    "es": frozenset("el la los las un una y de del para con en por x".split()),
    "fr": frozenset("le la les l un une et de du des d pour avec en a au aux x".split()),
    "pt": frozenset("o a os as um uma e de do da dos das para com em x".split()),
}
"""Words a product name's matching ignores, by the name's language (folded: "für" is "fur")."""
_HEAD_SPLIT: dict[str, str] = {
    "en": r",| for | with | to ",
    "de": r",| fur | mit | zu | aus ",
    "es": r",| de | del | para | con | en ",
    "fr": r",| de | du | des | d | pour | avec | en | a ",
    "pt": r",| de | do | da | para | com | em ",
}
"""Where a name's head part ends ("Clear case for iPhone 15" -> "clear case")."""
_HEAD_FIRST = frozenset({"es", "fr", "pt", "it"})
"""Languages whose names put the head noun first ("taza de ceramica"); others put it last."""
_UNIT = re.compile(r"^\d+[a-z]*$|^(?:mah|cm|mm|m|l|ml|gb|hd|w|v|pieces?)$")

# Question words per attribute name in every language, folded (no accents, "ß" as "ss"):
# English, then German, Spanish, French and Portuguese for the attributes asked most.
_ASKED_IN_OTHER_LANGUAGES: dict[str, str] = {
    "material": (
        r"woraus|aus was|material|stoff|hecho de|de que esta hecho|fait en|en quoi|"
        r"matiere|feito de|de que e feito"
    ),
    "size": (
        r"gross|grosse|masse|abmessungen|wie (?:lang|breit|hoch)|tamano|medidas?|mide|"
        r"dimensiones|taille|mesure|mesurent|tamanho|mede|dimensoes"
    ),
    "colour": r"farben?|color(?:es)?|couleurs?|cor(?:es)?",
    "weight": r"wiegt|gewicht|schwer|pesa|peso|pesado|poids|pese|lourd",
    "care": (
        r"waschen|waschbar|spulmaschine|spuelmaschine|mikrowelle|reinigen|lavar|lavavajillas|"
        r"microondas|laver|lave[ -]vaisselle|micro[ -]ondes|limpar|lava[ -]loucas"
    ),
}
# Question words per attribute name (English; keys are the catalogue's attribute names).
_ATTRIBUTE_WORDS: dict[str, str] = {
    "material": r"made (?:of|from|out of)|materials?|fabric|plastic|metal",
    "size": r"sizes?|big|large|small|dimensions?|measure|how (?:long|wide|tall|high)",
    "sizes": r"sizes?|what size",
    "size guide": r"size guide|which size|what size|sizing|fit me",
    "fit": r"fits?|fitting|run(?:s)? (?:small|large|big)|true to size|which size|what size",
    "compatibility": (
        r"compatible|compatibility|work(?:s)? (?:with|on)|fit(?:s)? (?:my|an|a|the)|"
        r"support(?:s)?|use (?:it |them )?with|iphone|android|samsung"
    ),
    "colour": r"colou?rs?",
    "colours": r"colou?rs?",
    "weight": r"weigh(?:s|t)?|heavy|light",
    "battery": r"battery|last|charge",
    "water resistance": r"water(?:proof)?|rain|sweat|splash",
    "care": r"wash(?:ing|able)?|clean|care|dishwasher|microwave|iron",
    "power": r"power(?:ed)?|watts?|charg(?:e|es|ing)|battery",
    "length": r"long|length",
    "capacity": r"capacity|mah|how much (?:charge|power)|charges?",
    "output": r"output|fast charg(?:e|ing)|watts?",
    "note": r"flight|plane|airline|cabin|baggage|luggage",
    "height": r"height|tall|high",
    "age": r"age|old|kids?|child(?:ren)?",
    "pieces": r"pieces?|how many",
    "safety": r"safe(?:ty)?|tested|certified",
    "memory": r"memory|sd|card|storage",
    "resolution": r"resolution|quality|1080|hd",
    "night vision": r"night|dark",
    "laptop": r"laptop|computer",
    "cabin": r"cabin|carry on|hand luggage|under seat",
    "plug": r"plug|socket",
    "voltage": r"volt(?:s|age)?",
    "control": r"control|app|remote",
    "remote": r"remote",
    "data": r"data|transfer|speed",
    "bluetooth": r"bluetooth",
    "wireless charging": r"wireless(?: charging)?|magsafe",
}
_ATTRIBUTE_WORDS = {
    name: "|".join((words, _ASKED_IN_OTHER_LANGUAGES.get(name.removesuffix("s"), ""))).strip("|")
    for name, words in _ATTRIBUTE_WORDS.items()
}
"""Each attribute's English question words with the other languages' ("sizes": "size")."""
_SHIPPING = re.compile(
    r"\b(?:ship(?:ping|ped|s)?|deliver(?:y|ed)?|arrive|take to (?:get|come)|get (?:here|to)|"
    r"how long (?:does|will|would) it take)\b"
)
_COUNTRY_ALIASES = {
    "uk": "GB",
    "the uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "usa": "US",
    "the us": "US",
    "the usa": "US",
    "america": "US",
    "the states": "US",
    "the united states": "US",
    "the netherlands": "NL",
    "holland": "NL",
}


@dataclass(frozen=True, slots=True)
class _Entry:
    """One of a product's names (the catalogue's or a language's), indexed for matching."""

    product: ProductView
    words: tuple[str, ...]
    heads: frozenset[str]
    """The name's head noun ("bank", "earbuds", "cam"), also joined to the word before it
    ("dashcam"): matching it alone is enough."""


class Catalogue:
    """The products, indexed once for matching (the catalogue is small; a few dozen items)."""

    def __init__(self, products: Sequence[ProductView]) -> None:
        self.products = {product.sku: product for product in products}
        self._entries = tuple(
            _entry(product, name, language)
            for product in products
            for language, name in _names(product)
        )
        names = Locale("en").territories
        self._countries: dict[str, str] = {
            str(name).lower(): str(code) for code, name in names.items() if len(code) == 2
        }
        self._countries.update(_COUNTRY_ALIASES)
        self._by_language: dict[str, list[tuple[str, str]]] = {}

    def find(self, text: str) -> ProductView | None:
        """The product ``text`` names, or None when none is named clearly enough."""
        words = _words(text)
        if not words:
            return None
        said = _Said(words)
        best: tuple[bool, int, str] | None = None
        found: ProductView | None = None
        for entry in self._entries:
            matched = [word for word in entry.words if said.has(word)]
            head = not entry.heads.isdisjoint(matched)
            if not head and len(matched) < 2:
                continue
            score = (head, sum(len(word) for word in matched), entry.product.sku)
            if best is None or score[:2] > best[:2]:
                best, found = score, entry.product
        return found

    def find_each(self, text: str) -> list[tuple[ProductView, str]]:
        """Every product ``text`` names, in the order named, each with the parts of the text
        about it ("how big is the mug, and what is the bowl made of"); a part naming no
        product is about the one named before it (or after it, at the start)."""
        about: list[tuple[ProductView | None, str]] = [
            (self.find(clause), clause) for clause in clauses(text)
        ]
        named = [product for product, _ in about if product is not None]
        if len({product.sku for product in named}) < 2:
            return []
        current: ProductView = named[0]
        parts: dict[str, list[str]] = {}
        found: dict[str, ProductView] = {}
        for product, clause in about:
            current = product or current
            found.setdefault(current.sku, current)
            parts.setdefault(current.sku, []).append(clause)
        return [(found[sku], " ".join(words)) for sku, words in parts.items()]

    def country(self, text: str, language: str = "en") -> str | None:
        """The country ``text`` names (its ISO code), in English or in ``language``
        ("Deutschland", "Alemania"), accents aside."""
        said = " ".join(entities.tokens(fold(text)))
        for name, code in self._country_names(language):
            if re.search(rf"\b{re.escape(name)}\b", said):
                return code
        return None

    def _country_names(self, language: str) -> list[tuple[str, str]]:
        """(name, code), longest name first: English's and the call language's own."""
        if language not in self._by_language:
            names = dict(self._countries)
            if language != "en":
                names.update(_territories(language))
            ordered = sorted(names.items(), key=lambda entry: len(entry[0]), reverse=True)
            self._by_language[language] = ordered
        return self._by_language[language]


def _territories(language: str) -> dict[str, str]:
    """The countries' names in ``language`` (Babel), folded and tokenized as callers' words
    are; none for a code Babel does not know."""
    try:
        territories = Locale.parse(language).territories
    except (ValueError, LookupError):
        return {}
    names: dict[str, str] = {}
    for code, name in territories.items():
        words = " ".join(entities.tokens(fold(str(name))))
        if len(code) == 2 and words:
            names[words] = str(code)
    return names


def fold(text: str) -> str:
    """Lower case without accents ("Cerámica" -> "ceramica", "Größe" -> "grosse"): names and
    what the caller said are compared so."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str) -> tuple[str, ...]:
    words = [word for word in entities.tokens(fold(text)) if word.isalnum()]
    joined = [a + b for a, b in itertools.pairwise(words)]
    return tuple(words + joined)


class _Said:
    """The words a caller said, asked whether each word of a name is among them.

    Two words are the same fuzzily when both are long ("earbud" ~ "earbuds"); when either is
    short, only up to a plural "s" (a fuzzy "and" would otherwise be "band"). Each name word
    is decided once a turn: the catalogue's names share many words, in every language.
    """

    def __init__(self, words: Sequence[str]) -> None:
        self._exact = frozenset(words)
        self._long = [word for word in self._exact if len(word) > _SHORT]
        self._decided: dict[str, bool] = {}

    def has(self, word: str) -> bool:
        decided = self._decided.get(word)
        if decided is None:
            decided = self._decided[word] = self._decide(word)
        return decided

    def _decide(self, word: str) -> bool:
        exact = self._exact
        if word in exact or word + "s" in exact or word + "es" in exact:
            return True
        if word.endswith("s") and len(word) - 1 <= _SHORT and word[:-1] in exact:
            return True  # a short word said without its plural "s" ("cup" for "cups")
        if len(word) <= _SHORT:
            return False
        best = process.extractOne(word, self._long, scorer=fuzz.ratio, score_cutoff=_MATCH)
        return best is not None


_SHORT = 4
"""Words this long or shorter match only exactly, up to a plural "s"."""


def _names(product: ProductView) -> list[tuple[str, str]]:
    """(language, name) for each of the product's names; the catalogue's own counts as English
    for its grammar (head noun last), the shop's base language being unknown."""
    return [("en", product.name), *sorted(product.names.items())]


def _entry(product: ProductView, spoken: str, language: str) -> _Entry:
    name = fold(spoken)
    stop = _STOP.get(language, _STOP["en"])
    head_part = re.split(_HEAD_SPLIT.get(language, _HEAD_SPLIT["en"]), f" {name} ")[0]
    words = [word for word in re.findall(r"[a-z0-9]+", name) if word not in stop]
    content = [word for word in words if not _UNIT.match(word)]
    head_words = [
        word
        for word in re.findall(r"[a-z0-9]+", head_part)
        if not _UNIT.match(word) and word not in stop
    ]
    head_first = language in _HEAD_FIRST
    if head_words:
        head = head_words[0] if head_first else head_words[-1]
    else:
        head = content[-1] if content else name
    heads = {head}
    if len(head_words) >= 2:
        # The word next to the head, joined to it as Whisper sometimes writes it ("dashcam").
        heads.add(head + head_words[1] if head_first else head_words[-2] + head)
    joined = [a + b for a, b in itertools.pairwise(content)]
    return _Entry(product, tuple(dict.fromkeys(content + joined)), frozenset(heads))


_CLAUSE_BREAK = frozenset({",", ".", "and", "also", "plus"})
_CLAUSE_START = frozenset("what what's whats how which can".split())


def clauses(question: str) -> list[str]:
    """The question's parts: split at commas and "and", and before a new question word
    ("how big is it what's it made of and can I wash it": three parts)."""
    parts: list[list[str]] = [[]]
    for word in entities.tokens(question):
        if word in _CLAUSE_BREAK:
            parts.append([])
            continue
        if word in _CLAUSE_START and parts[-1]:
            parts.append([])
        parts[-1].append(word)
    return [" ".join(part) for part in parts if part]


def attributes_asked(
    question: str, product: ProductView, said_names: Mapping[str, str] | None = None
) -> list[str]:
    """The product's attribute names the question asks about, in the order asked: for each
    part of the question the best matches (at most two a part). ``said_names``: an attribute's
    name in the call's language (the shop's translation), found in the question as its own."""
    names: list[str] = []
    spoken = {
        name: " ".join(entities.tokens(fold(said))) for name, said in (said_names or {}).items()
    }
    for clause in clauses(fold(question)):
        found = _clause_attributes(clause, product, spoken)
        names.extend(name for name in found if name not in names)
    return names


def _clause_attributes(said: str, product: ProductView, spoken: Mapping[str, str]) -> list[str]:
    scored: list[tuple[int, str]] = []
    for name in product.attributes:
        if name.startswith("ship_time."):
            continue
        score = 0
        names = {name, spoken.get(name, name)}
        if any(re.search(rf"\b{re.escape(alias)}s?\b", said) for alias in names):
            score = 2
        elif name in _ATTRIBUTE_WORDS and re.search(rf"\b(?:{_ATTRIBUTE_WORDS[name]})\b", said):
            score = 1
        if score:
            scored.append((score, name))
    if not scored:
        return []
    top = max(score for score, _ in scored)
    return [name for score, name in scored if score == top][:2]


# --- the flow ------------------------------------------------------------------------------


_QUESTION = re.compile(
    r"^\s*(?:is|are|does|do|can|will|would|could|what|how|which|has|have)\b|\?", re.IGNORECASE
)


def answer(draft: Draft, catalogue: Catalogue, asked: bool) -> None:
    """Answer a product question. ``asked``: the turn asked something (not just a name)."""
    asked = asked or bool(_QUESTION.search(draft.text))
    product = catalogue.find(draft.text)
    awaiting_name = draft.state.awaiting is Awaiting.PRODUCT
    if product is None and draft.state.product_sku is not None and not awaiting_name:
        product = catalogue.products.get(draft.state.product_sku)
    if product is None:
        if awaiting_name:
            draft.say("ack.sorry")
            draft.say("product.not_found")
            draft.say("product.say_name")
            if draft.retry() > 2:
                _offer_person(draft, None)
            return
        draft.say("ack.sure")
        draft.say("product.which")
        draft.fact("product_question", draft.text)
        draft.ask(Awaiting.PRODUCT)
        return
    question = draft.text
    if awaiting_name:
        question = f"{draft.state.fact('product_question') or ''} {draft.text}"
        asked = True
    draft.update(product_sku=product.sku)
    draft.fact("product", product.sku)
    draft.fact("product_question", question)
    if _SHIPPING.search(" ".join(entities.tokens(question))):
        # "What is it made of, and how long does shipping to Canada take?": both.
        asked_names = attributes_asked(question, product, said_names(draft, product))
        names = [name for name in asked_names if "ship" not in name]
        if names:
            draft.say("ack.sure")
            _facts(draft, product, names)
            sure = len(draft.chunks)
        _ship_time(draft, catalogue, product, question)
        if names and draft.chunks[sure] == draft.speech.say("ack.sure"):
            del draft.chunks[sure]
        return
    several = catalogue.find_each(question)
    if several:
        _several(draft, several, question)
        return
    names = attributes_asked(question, product, said_names(draft, product))
    if names:
        draft.say("ack.sure")
        _facts(draft, product, names)
        _done(draft)
        return
    if not asked:
        draft.say("ack.sure")
        draft.say("product.what", product=product.name_in(draft.language))
        draft.ask(Awaiting.NOTHING)
        return
    _unknown(draft, product)


def said_names(draft: Draft, product: ProductView) -> dict[str, str]:
    """The product's attribute names as said in the call's language, where they differ from
    the catalogue's (a question may use them: "Welche Größe?")."""
    spoken = {name: spoken_attribute(draft, name) for name in product.attributes}
    return {name: said for name, said in spoken.items() if said != name}


def _facts(draft: Draft, product: ProductView, names: Sequence[str]) -> None:
    """One short clause an attribute; the product is named once, all in the call's language
    where the shop gave its words."""
    language = draft.language
    for index, name in enumerate(names):
        value = product.attribute_in(name, language)
        said = spoken_attribute(draft, name)
        if index == 0:
            draft.say(
                "product.fact", product=product.name_in(language), attribute=said, value=value
            )
        else:
            draft.say("product.fact_more", attribute=said[:1].upper() + said[1:], value=value)


_DAY_RANGE = re.compile(r"(\d+)\s*(?:to|-|–)\s*(\d+)\s*days?", re.IGNORECASE)
"""A shipping time as docs/import-format.md writes it: "8 to 13 days"."""


def ship_time_said(speech: Speech, value: str) -> str:
    """A shipping time in the caller's language ("8 to 13 days" -> "acht bis dreizehn Tage");
    one written any other way is said as written."""
    found = _DAY_RANGE.fullmatch(value.strip())
    if found is None:
        return value
    low, high = (speech.number(int(days)) for days in found.groups())
    return speech.say("unit.day_range", low=low, high=high)


def attribute_said(speech: Speech, name: str) -> str:
    """The attribute's name in the caller's language (``attribute.*``); a name no template
    has (another shop's own) is said as the catalogue spells it."""
    key = "attribute." + name.replace(" ", "_")
    return speech.say(key) if key in speech.templates else name


def spoken_attribute(draft: Draft, name: str) -> str:
    """The attribute's name in the call's language: the shop's own word for it (its
    translations table), else the replies' (``attribute.*``), else as the catalogue spells it."""
    translated = draft.texts.translated(draft.language, name)
    return translated if translated is not None else attribute_said(draft.speech, name)


def _ship_time_value(draft: Draft, product: ProductView, key: str) -> str:
    """A shipping time in the call's language: the shop's translation, else "8 to 13 days"
    said through the replies."""
    translated = product.attributes_i18n.get(draft.language, {}).get(key)
    return (
        translated
        if translated is not None
        else ship_time_said(draft.speech, product.attributes[key])
    )


def _several(draft: Draft, named: Sequence[tuple[ProductView, str]], question: str) -> None:
    """A question about several products: what was asked about each, product by product."""
    draft.say("ack.sure")
    for product, about in named:
        aliases = said_names(draft, product)
        names = attributes_asked(about, product, aliases) or attributes_asked(
            question, product, aliases
        )
        if names:
            _facts(draft, product, names)
        else:
            draft.say("product.unknown", product=product.name_in(draft.language))
    last = named[-1][0]
    draft.update(product_sku=last.sku)
    draft.fact("product", last.sku)
    _done(draft)


def _ship_time(draft: Draft, catalogue: Catalogue, product: ProductView, question: str) -> None:
    country = catalogue.country(question, draft.language)
    if country is None and draft.state.verified_order is not None:
        order = draft.order(draft.state.verified_order)
        country = order.customer.country if order is not None else None
    language = draft.language
    key = f"ship_time.{country}"
    if country is not None and key in product.attributes:
        draft.say("ack.sure")
        draft.say(
            "product.ship_time",
            product=product.name_in(language),
            country=draft.speech.country(country),
            value=_ship_time_value(draft, product, key),
        )
        _done(draft)
        return
    if "ship_time.default" not in product.attributes:
        _unknown(draft, product)
        return
    draft.say("ack.sure")
    draft.say(
        "product.ship_time_default",
        product=product.name_in(language),
        value=_ship_time_value(draft, product, "ship_time.default"),
    )
    _done(draft)


def asks_shipping(text: str) -> bool:
    """Whether ``text`` asks how long shipping or delivery takes."""
    return bool(_SHIPPING.search(" ".join(entities.tokens(text))))


def _unknown(draft: Draft, product: ProductView) -> None:
    known = [name for name in product.attributes if not name.startswith("ship_time.")]
    draft.say("ack.sorry")
    draft.say("product.unknown", product=product.name_in(draft.language))
    if known:
        said = [spoken_attribute(draft, name) for name in known]
        draft.say("product.known", attributes=draft.speech.join(said))
    _offer_person(draft, product)


def _offer_person(draft: Draft, product: ProductView | None) -> None:
    draft.say("product.offer_person")
    subject = product.name if product is not None else "a product"
    draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff(f"product question about {subject}"))


def _done(draft: Draft) -> None:
    draft.anything_else()
