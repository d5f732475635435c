"""What the caller wants, from one turn's text: an intent and a few flags (English).

Rules, not a model: callers of a support line say a small set of things, and a rule that misses
is easy to see and fix. The text is normalised the way Whisper writes it (punctuation, casing,
"e-mail", digits), then each intent's patterns are tried in priority order.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

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
        Intent.LOST_PARCEL,
        Intent.RETURN,
        Intent.DUTIES,
        Intent.ADDRESS_CHANGE,
    }
)
"""Intents about one order: they need the caller verified first."""


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


def understand(text: str) -> Understanding:
    said = normalise(text)
    intent = classify(text)
    return Understanding(said, intent, yes_or_no(text), (intent,) if intent else ())


Understand = Callable[[str], Understanding]
"""What the engine calls on each turn's text (rules alone here; the classifier in engine)."""
