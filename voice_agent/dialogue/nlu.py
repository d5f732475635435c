"""What the caller wants, from one turn's text: an intent and a few flags (English).

Rules, not a model: callers of a support line say a small set of things, and a rule that misses
is easy to see and fix. The text is normalised the way Whisper writes it (punctuation, casing,
"e-mail", digits), then each intent's patterns are tried in priority order.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from voice_agent.dialogue.entities import tokens, yes_or_no

logger = logging.getLogger(__name__)


class Intent(Enum):
    """The requests of docs/requests.md; the values are the labels of benchmarks/intents/."""

    ORDER_STATUS = "order_status"
    TRACKING = "tracking"
    LOST_PARCEL = "lost_parcel"
    NOT_RECEIVED = "not_received"
    DELIVERY_LOCATION = "delivery_location"
    DAMAGED_ITEM = "damaged_item"
    WRONG_ITEM = "wrong_item"
    MISSING_ITEM = "missing_item"
    RETURN = "return"
    REFUND_STATUS = "refund_status"
    CANCEL = "cancel"
    ADDRESS_CHANGE = "address_change"
    DUTIES = "duties"
    INVOICE = "invoice"
    PRODUCT = "product_question"
    CHARGED_TWICE = "charged_twice"
    DELIVERY_TIME = "delivery_time"
    NO_ORDER_NUMBER = "no_order_number"
    COMPLAINT = "complaint"
    HUMAN = "human"
    REPEAT = "repeat"
    SLOWER = "slower"
    GOODBYE = "goodbye"
    OUT_OF_SCOPE = "out_of_scope"


ORDER_INTENTS = frozenset(
    {
        Intent.ORDER_STATUS,
        Intent.TRACKING,
        Intent.LOST_PARCEL,
        Intent.NOT_RECEIVED,
        Intent.DELIVERY_LOCATION,
        Intent.DAMAGED_ITEM,
        Intent.WRONG_ITEM,
        Intent.MISSING_ITEM,
        Intent.RETURN,
        Intent.REFUND_STATUS,
        Intent.CANCEL,
        Intent.ADDRESS_CHANGE,
        Intent.DUTIES,
        Intent.INVOICE,
        Intent.CHARGED_TWICE,
    }
)
"""Intents about one order: they need the caller verified first."""

ITEM_INTENTS = frozenset({Intent.DAMAGED_ITEM, Intent.WRONG_ITEM, Intent.MISSING_ITEM})
"""A wrong, damaged or missing item: a claim with photos (docs/requests.md)."""

SUBSUMES: dict[Intent, frozenset[Intent]] = {
    Intent.LOST_PARCEL: frozenset({Intent.ORDER_STATUS}),
    Intent.NOT_RECEIVED: frozenset({Intent.ORDER_STATUS, Intent.LOST_PARCEL}),
    Intent.DELIVERY_LOCATION: frozenset(
        {Intent.ORDER_STATUS, Intent.NOT_RECEIVED, Intent.LOST_PARCEL}
    ),
    Intent.REFUND_STATUS: frozenset({Intent.RETURN}),
    Intent.CANCEL: frozenset({Intent.ORDER_STATUS, Intent.RETURN}),
    Intent.DUTIES: frozenset({Intent.ORDER_STATUS}),
    # "you charged me twice, I want it back": the duplicate-charge request is for that money
    Intent.CHARGED_TWICE: frozenset({Intent.REFUND_STATUS, Intent.RETURN}),
    **{
        intent: frozenset({Intent.ORDER_STATUS, Intent.LOST_PARCEL, Intent.RETURN})
        for intent in (Intent.DAMAGED_ITEM, Intent.WRONG_ITEM, Intent.MISSING_ITEM)
    },
}
"""A request whose answer already covers another said in the same turn ("my parcel never
arrived, where is it": the lost-parcel answer reads the last scan)."""


def _patterns(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


# Tried in this order; the first intent with a match wins. Asking for a person and leaving come
# first (they override everything); a lost parcel before a status question ("where is my parcel,
# it never arrived"); duties before a lost parcel ("held at customs, do I have to pay tax").
_RULES: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.HUMAN,
        _patterns(
            r"(?:real|live|actual) (?:person|human|agent)",
            r"human(?: being)?",
            r"(?:a|the|another) person",
            r"operator",
            r"representative",
            r"customer (?:service|support|care)",
            r"manager",
            r"supervisor",
            r"call me back",
            r"(?:speak|talk|chat) (?:to|with) (?:someone|somebody|an agent|a colleague|staff)",
            r"someone from (?:the|your) (?:team|shop|store)",
        ),
    ),
    (
        Intent.SLOWER,
        _patterns(
            r"(?:speak|talk|go|say it|read it|say that) (?:a bit |a little )?(?:more )?"
            r"slow(?:er|ly)",
            r"slow down",
            r"(?:too|so) fast",
            r"more slowly",
        ),
    ),
    (
        Intent.REPEAT,
        _patterns(
            r"repeat",
            r"say (?:that|it) again",
            r"come again",
            r"pardon",
            r"one more time",
            r"didn't (?:catch|hear) (?:that|it|you)",
            r"didn't get that",
            r"what was that",
            r"what did you (?:just )?say",
            r"sorry what",
        ),
    ),
    (
        Intent.GOODBYE,
        _patterns(
            r"bye",
            r"goodbye",
            r"good bye",
            r"that's all",
            r"that is all",
            r"that's it for (?:now|today)",
            r"nothing else",
            r"no more questions",
            r"hang up",
            r"have a (?:good|nice|great) (?:day|one|evening)",
            r"i'm done",
            r"we're done",
        ),
    ),
    (
        Intent.NO_ORDER_NUMBER,
        _patterns(
            r"(?:don't|do not|didn't|did not|can't|cannot|can not|couldn't) (?:have|know|find|"
            r"remember|see|got)(?: \w+){0,3} order number",
            r"no order number",
            r"(?:lost|forgot|forgotten) (?:my|the) order number",
            r"without (?:the|an|my) order number",
        ),
    ),
    (
        Intent.COMPLAINT,
        _patterns(
            r"(?:make|file|lodge|raise|register|submit) a (?:formal )?complaint",
            r"i (?:want|would like|'d like) to complain",
            r"complaint about",
        ),
    ),
    (
        Intent.CHARGED_TWICE,
        _patterns(
            r"charged (?:me )?(?:twice|two times|double)",
            r"double (?:charge|charged|payment|billed)",
            r"(?:paid|billed) (?:it )?twice",
            r"(?:two|duplicate) (?:charges|payments)",
            r"duplicate (?:charge|payment)",
        ),
    ),
    (
        Intent.REFUND_STATUS,
        _patterns(
            r"(?:where|when) (?:is|will|do|does|can|am|are)(?: \w+){0,3} refund",
            r"refund status",
            r"status of (?:my|the) refund",
            r"(?:haven't|have not|didn't|did not|not) (?:yet )?(?:received|got|gotten|seen) "
            r"(?:my|the|a|any) refund",
            r"(?:has|was|is) (?:my|the) refund",
            r"still (?:no|waiting for (?:my|the|a)) refund",
            r"refund (?:yet|already)",
        ),
    ),
    (
        Intent.INVOICE,
        _patterns(
            r"(?<!customs )(?<!commercial )invoice",
            r"(?<!duty )(?<!tax )receipt",
        ),
    ),
    (
        Intent.CANCEL,
        _patterns(r"cancel", r"cancell?(?:ed|ing|ation)"),
    ),
    (
        Intent.WRONG_ITEM,
        _patterns(
            r"wrong (?:item|items|size|colou?r|product|thing|one|model|article)",
            r"(?:not|isn't|is not|wasn't|was not) what i (?:ordered|bought|paid for)",
            r"(?:sent|got|received|gave) (?:me )?(?:the|a) wrong",
            r"(?:sent|got|received) (?:me )?(?:something|a different) ",
        ),
    ),
    (
        Intent.MISSING_ITEM,
        _patterns(
            r"(?:item|items|piece|pieces|part|parts|something|one of (?:the|them)) "
            r"(?:is |are |was |were )?missing",
            r"missing (?:an |one |a )?(?:item|items|piece|pieces|part|parts)",
            r"missing from (?:the|my) (?:parcel|package|order|box)",
            r"only (?:got|received) (?:one|two|part|half)",
            r"(?:parcel|package|box) was (?:empty|incomplete)",
        ),
    ),
    (
        Intent.DAMAGED_ITEM,
        _patterns(
            r"damaged",
            r"broken",
            r"cracked",
            r"smashed",
            r"defective",
            r"faulty",
            r"stopped working",
            r"dead on arrival",
        ),
    ),
    (
        Intent.DELIVERY_LOCATION,
        _patterns(
            r"where (?:was|did|have) (?:it|they|he|she|the (?:parcel|package|courier|driver))"
            r"(?: \w+)? (?:left|leave|put|drop|dropped)",
            r"left (?:it |them )?with (?:a |my |the )?neighbou?r",
            r"which neighbou?r",
            r"safe place",
        ),
    ),
    (
        Intent.NOT_RECEIVED,
        _patterns(
            r"(?:says|said|shows|showing|marked|marked as|tracking says) (?:it(?:'s| is| was| has"
            r" been)? )?(?:as )?(?:been )?delivered",
            r"delivered but",
            r"supposedly delivered",
        ),
    ),
    (
        Intent.DUTIES,
        _patterns(
            r"dut(?:y|ies)",
            r"tax(?:es)?",
            r"vat",
            r"gst",
            r"import (?:fee|fees|charge|charges)",
            r"customs (?:fee|fees|charge|charges|bill|invoice)",
            r"(?:why|do) (?:do )?i (?:have to|need to|must) pay",
            r"pay (?:for|at) customs",
            r"incoterms?",
            r"ddp",
            r"dap",
        ),
    ),
    (
        Intent.RETURN,
        _patterns(
            r"return(?:s|ing|ed)?",
            r"refund(?:s|ed)?",
            r"send (?:it|them|this|these) back",
            r"money back",
            r"exchange",
            r"doesn't fit",
            r"don't (?:want|like) (?:it|them)",
        ),
    ),
    (
        Intent.ADDRESS_CHANGE,
        _patterns(
            r"(?<!email )(?<!mail )address",
            r"i(?:'ve| have)? moved",
            r"deliver (?:it )?to (?:a |another |my )?(?:different|new|other)",
            r"ship (?:it )?to (?:a |another )?(?:different|new|other)",
            r"redirect",
            r"wrong (?:house|street|city|postcode|zip)",
        ),
    ),
    (
        Intent.LOST_PARCEL,
        _patterns(
            r"lost",
            r"missing",
            r"never (?:arrived|came|got|received|turned up|showed up|been delivered)",
            r"(?:hasn't|has not|haven't|have not|didn't|did not|isn't|is not|wasn't|was not|"
            r"still not|not yet) (?:arrived|come|got it|received|been delivered|delivered|here|"
            r"turned up|showed up|get it|moved)",
            r"not (?:arrived|received|delivered)",
            r"(?:waiting|waited) (?:for|since) (?:weeks|ages|a month|a long time|so long)",
            r"stuck",
            r"no (?:update|updates|news|scan|scans|movement|tracking update)",
            r"hasn't moved",
            r"open a claim",
            r"file a claim",
            r"make a claim",
            r"claim",
        ),
    ),
    (
        Intent.TRACKING,
        _patterns(
            r"tracking (?:number|code|id|link|details)",
            r"(?:which|what) (?:company|carrier|courier|delivery company|delivery service|"
            r"shipping company|postal service)",
            r"who(?:'s| is) (?:delivering|bringing|shipping|carrying)",
            r"who (?:delivers|ships|is the carrier|is the courier)",
        ),
    ),
    (
        Intent.ORDER_STATUS,
        _patterns(
            r"where(?:'s| is| are) (?:my|the|our|it|they)",
            r"where (?:my|the|our) (?:order|parcel|package|delivery|shipment)",
            r"status",
            r"track(?:ing)?",
            r"when (?:will|is|does|do|can) (?:it|my|the|i)",
            r"(?:has|is|was) (?:it|my order|my parcel|my package) (?:been )?"
            r"(?:shipped|sent|dispatched)",
            r"shipped",
            r"dispatched",
            r"delivery date",
            r"arriv(?:e|ing|al)",
            r"update on (?:my|the)",
            r"my (?:order|parcel|package|delivery|shipment)",
            r"order number",
        ),
    ),
    (
        Intent.DELIVERY_TIME,
        _patterns(
            r"(?:do|can|will|would) you (?:ship|deliver|send) to",
            r"how long (?:does|will|would) (?:it|delivery|shipping|a parcel|an order) take to "
            r"(?:get to|reach|arrive in|go to)",
        ),
    ),
    (
        Intent.PRODUCT,
        _patterns(
            r"(?:what|which) (?:size|sizes|colour|colours|color|colors|material)",
            r"made (?:of|from)",
            r"material",
            r"compatible",
            r"compatibility",
            r"(?:does|do|is|are) (?:it|they|this|these|that) (?:have|has|come|include)",
            r"(?:does|will|would|can|do) (?:it|they|the|this|these|that)(?: \w+){0,3} "
            r"(?:work|fit|go|come|charge)",
            r"how (?:big|long|heavy|large|much|tall|wide)",
            r"(?:size|sizes|sizing|colour|colours|color|colors|weight|battery|dimensions)",
            r"(?:in|have it in) stock",
            r"how long (?:does|will|is) (?:shipping|delivery)",
            r"ship(?:ping)? (?:time|times|to)",
            r"product",
            r"waterproof",
            r"washable",
        ),
    ),
    (
        # Last resort: speech recognition garbles the question ("where is mine order") far
        # more often than the words "order" or "parcel" themselves.
        Intent.ORDER_STATUS,
        _patterns(r"(?:order|orders|parcel|package|shipment)"),
    ),
)


@dataclass(frozen=True, slots=True)
class Understanding:
    """One turn, understood: the best intent (None when only an answer was given) and the
    yes / no it holds, if any. Entities are parsed by the flow that expects them."""

    text: str
    """The text normalised: lower case, words and digits separated by single spaces."""
    intent: Intent | None
    yes_no: bool | None
    intents: tuple[Intent, ...] = ()
    """Every request in the turn, in the order said ("where is it, and can I get an invoice"):
    the first is ``intent``."""


_THANKS = re.compile(r"^(?:(?:ok|okay|great|perfect|lovely|right|oh)\s)*(?:thank you|thanks)\b")


def is_thanks(text: str) -> bool:
    """Only thanks ("thank you so much"), no request in it."""
    return classify(text) is None and bool(_THANKS.search(normalise(text)))


def normalise(text: str) -> str:
    return " ".join(word for word in tokens(text) if word not in (",", "."))


def classify(text: str) -> Intent | None:
    """The intent of ``text``, or None when it names none (an answer, a yes, a number)."""
    said = normalise(text)
    if not said:
        return None
    for intent, pattern in _RULES:
        if pattern.search(said):
            return intent
    return None


_CLAUSE_BREAK = re.compile(
    r"[?!;]|\.(?:\s|$)|\b(?:and also|and then|and|but|also|plus|another thing|oh and|as well as)\b",
    re.IGNORECASE,
)


def _specific(text: str) -> Intent | None:
    """Like ``classify`` without the last-resort rule (a clause naming only "my order")."""
    said = normalise(text)
    for intent, pattern in _RULES[:-1]:
        if pattern.search(said):
            return intent
    return None


def requests_in(text: str) -> tuple[Intent, ...]:
    """Every request in ``text``, in the order said, leaving out one whose answer an earlier
    or later request of the turn covers. Asking for a person wins over everything; a goodbye
    or a "repeat" said along with requests is not one of them."""
    first = classify(text)
    if first is None or first is Intent.HUMAN:
        return () if first is None else (first,)
    found: list[Intent] = []
    for clause in _CLAUSE_BREAK.split(text):
        intent = _specific(clause)
        if intent is None or intent in found or intent in _CONTROL:
            continue
        if any(intent in SUBSUMES.get(earlier, ()) for earlier in found):
            continue
        found = [earlier for earlier in found if earlier not in SUBSUMES.get(intent, ())]
        found.append(intent)
    return tuple(found) if found else (first,)


def requests_besides_person(text: str) -> tuple[Intent, ...]:
    """The requests of a turn that also asks for a person ("I want to file a complaint and
    speak to a manager"): what the person's ticket goes with, in the order said."""
    found: list[Intent] = []
    for clause in _CLAUSE_BREAK.split(text):
        intent = _specific(clause)
        if intent is not None and intent not in _CONTROL and intent not in found:
            found.append(intent)
    return tuple(found)


_CONTROL = frozenset({Intent.HUMAN, Intent.REPEAT, Intent.SLOWER, Intent.GOODBYE})
"""Said in passing ("thanks, bye") they do not make a second request of a turn."""

_FRUSTRATED = _patterns(
    r"ridiculous",
    r"unacceptable",
    r"outrageous",
    r"disgrace(?:ful)?",
    r"furious",
    r"angry",
    r"fed up",
    r"sick (?:of|and tired)",
    r"fuming",
    r"useless",
    r"pathetic",
    r"terrible",
    r"worst",
    r"a joke",
    r"scam",
    r"rip ?off",
    r"what the hell",
    r"waste of (?:my )?time",
    r"(?:third|fourth|fifth|tenth) time",
    r"how many times",
    r"(?:nobody|no one|no-one) (?:helps|answers|replies|cares)",
    r"had enough",
    r"getting nowhere",
    r"frustrat\w*",
    r"annoy\w*",
    r"upset",
    # disbelief, disgust and plain anger
    r"unbelievable",
    r"incredible",
    r"(?:absolutely |completely )?(?:awful|horrible|appalling|shocking|disgusting|disgusted)",
    r"incompetent",
    r"(?:are|you) (?:you )?(?:kidding|joking)(?: me)?",
    r"(?:for god's|for heaven's|for christ's|for pete's) sake",
    r"(?:bloody|damn|damned|dammit|goddamn|hell|crap|crappy|shit\w*|fuck\w*|bullshit)",
    r"i'm (?:so |really |very )?(?:mad|livid|cross|pissed(?: off)?)",
    r"(?:nobody|no one|no-one) (?:tells|told|tell|gets back|got back|calls|called|helped)",
    r"thanks for nothing",
    # impatience
    r"(?:right|straight) (?:now|away)",
    r"immediately",
    r"again and again",
    r"(?:yet|once) again",
    r"still (?:nothing|no answer|no reply|waiting)",
    r"every (?:single )?time",
    r"(?:second|2nd|3rd|4th|5th) time",
    r"how (?:hard|difficult) (?:can|is) it",
    r"enough is enough",
    r"(?:weeks|months) (?:and weeks|and months|now)",
    # sarcasm
    r"(?:oh |just )?(?:great|brilliant|fantastic|wonderful|perfect),? (?:just|another|really) "
    r"(?:great|brilliant|fantastic|wonderful|perfect)",
    r"(?:great|brilliant|fantastic|lovely|wonderful) service",
    r"thanks a lot for nothing",
    r"(?:oh )?what a surprise",
)
_SHOUTED = re.compile(r"\b[A-Z]{4,}\b")
"""A word written in capitals (a chat caller shouting): "it's LOST"."""
_NOT_SHOUTED = frozenset({"DHL", "UPS", "USPS", "TNT", "DPD", "GLS", "VAT", "GST", "DDP", "DAP"})


def is_frustrated(text: str) -> bool:
    """Whether the caller sounds angry or fed up (acknowledged once, with a person offered)."""
    shouted = any(word not in _NOT_SHOUTED for word in _SHOUTED.findall(text))
    return shouted or bool(_FRUSTRATED.search(normalise(text)))


def understand(text: str, language: str = "en") -> Understanding:
    """The English rules alone (``language`` is taken for the ``Understand`` shape; the
    classifier reads the other languages: dialogue.understanding)."""
    said = normalise(text)
    intents = requests_in(text)
    return Understanding(said, intents[0] if intents else None, yes_or_no(text), intents)


class Understand(Protocol):
    """What the engine calls on each turn's text, in the turn's language (rules alone here;
    the classifier with them: dialogue.understanding.Understander)."""

    def __call__(self, text: str, language: str = "en") -> Understanding: ...
