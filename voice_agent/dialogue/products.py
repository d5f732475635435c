"""Product questions, answered only from the catalogue's attributes (never invented).

Product names are matched fuzzily (rapidfuzz) word by word, so "the earbuds", "that dashcam"
and Whisper's "power-bank" find their product; the question's words pick the attributes to
read out. Where the catalogue has no answer, the agent says so and offers a person.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from babel import Locale
from rapidfuzz import fuzz

from voice_agent.dialogue import entities
from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.replies import Speech
from voice_agent.dialogue.state import Awaiting, PendingHandoff
from voice_agent.store.views import ProductView

logger = logging.getLogger(__name__)

_MATCH = 85.0
"""rapidfuzz ratio (0..100) for two words to count as the same ("earbud" ~ "earbuds")."""
_STOP = frozenset("a an and the for to of with in on by x".split())
_UNIT = re.compile(r"^\d+[a-z]*$|^(?:mah|cm|mm|m|l|ml|gb|hd|w|v|pieces?)$")

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
    product: ProductView
    words: tuple[str, ...]
    heads: frozenset[str]
    """The name's head noun ("bank", "earbuds", "cam"), also joined to the word before it
    ("dashcam"): matching it alone is enough."""


class Catalogue:
    """The products, indexed once for matching (the catalogue is small; a few dozen items)."""

    def __init__(self, products: Sequence[ProductView]) -> None:
        self.products = {product.sku: product for product in products}
        self._entries = tuple(_entry(product) for product in products)
        names = Locale("en").territories
        self._countries: dict[str, str] = {
            str(name).lower(): str(code) for code, name in names.items() if len(code) == 2
        }
        self._countries.update(_COUNTRY_ALIASES)

    def find(self, text: str) -> ProductView | None:
        """The product ``text`` names, or None when none is named clearly enough."""
        said = _words(text)
        if not said:
            return None
        best: tuple[bool, int, str] | None = None
        found: ProductView | None = None
        for entry in self._entries:
            matched = [word for word in entry.words if _said(word, said)]
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

    def country(self, text: str) -> str | None:
        said = " ".join(entities.tokens(text))
        for name in sorted(self._countries, key=len, reverse=True):
            if re.search(rf"\b{re.escape(name)}\b", said):
                return self._countries[name]
        return None


def _words(text: str) -> tuple[str, ...]:
    words = [word for word in entities.tokens(text) if word.isalnum()]
    joined = [a + b for a, b in itertools.pairwise(words)]
    return tuple(words + joined)


def _said(word: str, said: Sequence[str]) -> bool:
    return any(_same(word, candidate) for candidate in said)


def _same(word: str, candidate: str) -> bool:
    """Fuzzy for long words ("earbud" ~ "earbuds"); short ones must match up to a plural "s"
    (a fuzzy "and" would otherwise be "band")."""
    if min(len(word), len(candidate)) <= 4:
        return candidate in (word, word + "s", word + "es") or word == candidate + "s"
    return fuzz.ratio(word, candidate) >= _MATCH


def _entry(product: ProductView) -> _Entry:
    name = product.name.lower()
    head_part = re.split(r",| for | with | to ", name)[0]
    words = [word for word in re.findall(r"[a-z0-9]+", name) if word not in _STOP]
    content = [word for word in words if not _UNIT.match(word)]
    head_words = [word for word in re.findall(r"[a-z0-9]+", head_part) if not _UNIT.match(word)]
    head = head_words[-1] if head_words else (content[-1] if content else name)
    heads = {head}
    if len(head_words) >= 2:
        heads.add(head_words[-2] + head)
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


def attributes_asked(question: str, product: ProductView) -> list[str]:
    """The product's attribute names the question asks about, in the order asked: for each
    part of the question the best matches (at most two a part)."""
    names: list[str] = []
    for clause in clauses(question):
        names.extend(name for name in _clause_attributes(clause, product) if name not in names)
    return names


def _clause_attributes(said: str, product: ProductView) -> list[str]:
    scored: list[tuple[int, str]] = []
    for name in product.attributes:
        if name.startswith("ship_time."):
            continue
        score = 0
        if re.search(rf"\b{re.escape(name)}s?\b", said):
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
        names = [name for name in attributes_asked(question, product) if "ship" not in name]
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
    names = attributes_asked(question, product)
    if names:
        draft.say("ack.sure")
        _facts(draft, product, names)
        _done(draft)
        return
    if not asked:
        draft.say("ack.sure")
        draft.say("product.what", product=product.name)
        draft.ask(Awaiting.NOTHING)
        return
    _unknown(draft, product)


def _facts(draft: Draft, product: ProductView, names: Sequence[str]) -> None:
    """One short clause an attribute; the product is named once."""
    for index, name in enumerate(names):
        value = product.attributes[name]
        said = attribute_said(draft.speech, name)
        if index == 0:
            draft.say("product.fact", product=product.name, attribute=said, value=value)
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


def _several(draft: Draft, named: Sequence[tuple[ProductView, str]], question: str) -> None:
    """A question about several products: what was asked about each, product by product."""
    draft.say("ack.sure")
    for product, about in named:
        names = attributes_asked(about, product) or attributes_asked(question, product)
        if names:
            _facts(draft, product, names)
        else:
            draft.say("product.unknown", product=product.name)
    last = named[-1][0]
    draft.update(product_sku=last.sku)
    draft.fact("product", last.sku)
    _done(draft)


def _ship_time(draft: Draft, catalogue: Catalogue, product: ProductView, question: str) -> None:
    country = catalogue.country(question)
    if country is None and draft.state.verified_order is not None:
        order = draft.order(draft.state.verified_order)
        country = order.customer.country if order is not None else None
    value = product.attributes.get(f"ship_time.{country}") if country else None
    if value is not None and country is not None:
        draft.say("ack.sure")
        draft.say(
            "product.ship_time",
            product=product.name,
            country=draft.speech.country(country),
            value=ship_time_said(draft.speech, value),
        )
        _done(draft)
        return
    default = product.attributes.get("ship_time.default")
    if default is None:
        _unknown(draft, product)
        return
    draft.say("ack.sure")
    value = ship_time_said(draft.speech, default)
    draft.say("product.ship_time_default", product=product.name, value=value)
    _done(draft)


def asks_shipping(text: str) -> bool:
    """Whether ``text`` asks how long shipping or delivery takes."""
    return bool(_SHIPPING.search(" ".join(entities.tokens(text))))


def _unknown(draft: Draft, product: ProductView) -> None:
    known = [name for name in product.attributes if not name.startswith("ship_time.")]
    draft.say("ack.sorry")
    draft.say("product.unknown", product=product.name)
    if known:
        said = [attribute_said(draft.speech, name) for name in known]
        draft.say("product.known", attributes=draft.speech.join(said))
    _offer_person(draft, product)


def _offer_person(draft: Draft, product: ProductView | None) -> None:
    draft.say("product.offer_person")
    subject = product.name if product is not None else "a product"
    draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff(f"product question about {subject}"))


def _done(draft: Draft) -> None:
    draft.anything_else()
