"""Rules and classifier together: decisive phrases win, answers hold no request, every request
of a multi-part turn is listed in the order said, and the old rules catch what the classifier
cannot place."""

from __future__ import annotations

import pytest

from tests.fakes.embedder import BagOfWordsEmbedder
from voice_agent.dialogue.classifier import (
    NONE_LABEL,
    Exemplars,
    IntentClassifier,
    Reading,
    Scored,
    Tuning,
)
from voice_agent.dialogue.nlu import Intent, understand
from voice_agent.dialogue.understanding import DECISIVE, Understander, decisive

PHRASES = {
    "order_status": ("where is my order", "has my parcel shipped"),
    "return": ("i want to return it", "send it back for a refund"),
    "invoice": ("can i get an invoice", "send me a receipt"),
    # A classifier that reads asking for a person as something else: the rule must win.
    "complaint": ("i want a real person right now this is terrible", "this is terrible"),
    NONE_LABEL: ("yes", "thank you", "it is 0", "yes please"),
}


def understander() -> Understander:
    tuning = Tuning(
        top_k=1,
        min_score=0.5,
        min_margin=0.0,
        part_min_score=0.5,
        single_score=1.01,
        none_penalty=0,
        head="nearest",
    )
    return Understander(IntentClassifier(BagOfWordsEmbedder(), Exemplars(("en",), PHRASES), tuning))


def test_decisive_rules_win_over_the_classifier() -> None:
    heard = understander()("I want to speak to a real person right now!")
    assert heard.intent is Intent.HUMAN
    assert heard.intents == (Intent.HUMAN,)
    assert understander()("Sorry, could you repeat that?").intent is Intent.REPEAT
    assert understander()("No, that's all. Bye!").intent is Intent.GOODBYE


def test_only_unmistakable_rules_are_decisive() -> None:
    assert {Intent.HUMAN, Intent.REPEAT, Intent.SLOWER, Intent.GOODBYE} == DECISIVE
    assert decisive("operator please") is Intent.HUMAN
    assert decisive("I want to return it") is None  # a broad rule: the classifier decides


def test_answers_hold_no_request() -> None:
    for said, yes_no in (("Yes please.", True), ("It is 31146.", None), ("Thank you", None)):
        heard = understander()(said)
        assert heard.intent is None, said
        assert heard.intents == ()
        assert heard.yes_no is yes_no


def test_a_confident_answer_is_not_handed_to_the_broad_rules() -> None:
    # nlu's rules read "order number" as a status question; the answer class says otherwise.
    assert understand("It is 31146").intent is None
    assert understander()("it is 31146").intent is None


def test_every_request_in_the_order_said() -> None:
    heard = understander()("Where is my order? And can I get an invoice?")
    assert heard.intents == (Intent.ORDER_STATUS, Intent.INVOICE)
    assert heard.intent is Intent.ORDER_STATUS
    heard = understander()("I want to return it, and also send me a receipt.")
    assert heard.intents == (Intent.RETURN, Intent.INVOICE)


def test_rules_and_classifier_share_a_multi_part_turn() -> None:
    heard = understander()("Where is my order? Then let me talk to a real person.")
    assert heard.intents == (Intent.ORDER_STATUS, Intent.HUMAN)
    heard = understander()("Can I get an invoice? That's all, bye.")
    assert heard.intents == (Intent.INVOICE, Intent.GOODBYE)


def test_the_broad_rules_catch_what_the_classifier_cannot_place() -> None:
    heard = understander()("these lovely shoes doesn't fit")
    assert heard.intent is Intent.RETURN  # nlu: "doesn't fit" / "don't fit" is a return
    assert understander()("tell me a joke").intent is None


def test_the_text_and_yes_no_are_as_the_rules_give_them() -> None:
    heard = understander()("No, I want to return it.")
    assert heard.text == "no i want to return it"
    assert heard.yes_no is False
    assert heard.intent is Intent.RETURN


def test_without_a_classifier_it_is_the_rules() -> None:
    for said in ("Where is my order?", "yes", "I want to return the dress", "tell me a joke"):
        assert Understander()(said) == understand(said)


def test_a_goodbye_ending_the_turn_comes_after_its_request() -> None:
    heard = understander()("Can I get an invoice, bye")
    assert heard.intents == (Intent.INVOICE, Intent.GOODBYE)


def test_a_request_called_off_is_none() -> None:
    heard = understander()("no don't send me a receipt, I want to return it")
    assert heard.intents == (Intent.RETURN,)


class _Reads:
    """A classifier stub: every turn reads as the given whole and clauses."""

    def __init__(self, whole: Scored, *parts: tuple[str, Scored]) -> None:
        self.reading = Reading(whole, parts or (("", whole),), single_score=0.8)

    def read(self, text: str, language: str = "en") -> Reading:
        return self.reading


def _scored(intent: Intent, score: float) -> Scored:
    return Scored(intent, score, score - 0.05, confident=score >= 0.7)


def test_anger_read_as_a_complaint_gives_way_to_the_request_the_rules_name() -> None:
    angry = _Reads(_scored(Intent.COMPLAINT, 0.7))
    for said, request in (
        ("this is ridiculous, my order never arrived", Intent.LOST_PARCEL),
        ("I am fed up, my parcel is lost", Intent.LOST_PARCEL),
        ("this is a joke, I was charged twice", Intent.CHARGED_TWICE),
    ):
        assert Understander(angry)(said).intents == (request,), said  # type: ignore[arg-type]
    # Only venting, or a complaint named as one: the complaint stays.
    assert Understander(angry)("this is ridiculous").intents == (Intent.COMPLAINT,)  # type: ignore[arg-type]
    said = "this is ridiculous, I want to make a complaint about my parcel"
    assert Understander(angry)(said).intents == (Intent.COMPLAINT,)  # type: ignore[arg-type]


def test_a_whole_reading_that_only_blends_sure_clauses_gives_way_to_them() -> None:
    money = _Reads(
        _scored(Intent.REFUND_STATUS, 0.75),
        ("you took the payment two times", _scored(Intent.CHARGED_TWICE, 0.98)),
        ("I want it back", _scored(Intent.RETURN, 0.97)),
    )
    # The money back is the duplicate charge's own request: no return besides it.
    heard = Understander(money)("you took the payment two times, I want it back")  # type: ignore[arg-type]
    assert heard.intents == (Intent.CHARGED_TWICE,)
    two = _Reads(
        _scored(Intent.ORDER_STATUS, 0.7),
        ("send me an invoice", _scored(Intent.INVOICE, 0.98)),
        ("and who delivers it", _scored(Intent.TRACKING, 0.97)),
    )
    heard = Understander(two)("send me an invoice and who delivers it")  # type: ignore[arg-type]
    assert heard.intents == (Intent.INVOICE, Intent.TRACKING)
    # A clause that reads as the whole's request: the whole turn is that request.
    named = _Reads(
        _scored(Intent.ORDER_STATUS, 0.75),
        ("send me an invoice", _scored(Intent.INVOICE, 0.98)),
        ("where is it", _scored(Intent.ORDER_STATUS, 0.6)),
    )
    heard = Understander(named)("send me an invoice, where is it")  # type: ignore[arg-type]
    assert heard.intents == (Intent.ORDER_STATUS,)


# --- other languages --------------------------------------------------------------------

GERMAN = {
    "order_status": ("wo ist meine bestellung", "ist mein paket unterwegs"),
    "invoice": ("ich brauche eine rechnung", "schicken sie mir die rechnung"),
    "cancel": ("bitte die bestellung stornieren", "stornieren sie das"),
    "address_change": ("die adresse ändern", "neue lieferadresse"),
    "complaint": ("das ist eine frechheit", "ich bin so sauer"),
    NONE_LABEL: ("ja", "danke", "das ist 0", "ja bitte"),
}


def german() -> Understander:
    tuning = Tuning(
        top_k=1,
        min_score=0.5,
        min_margin=0.0,
        part_min_score=0.5,
        single_score=1.01,
        none_penalty=0,
        head="nearest",
    )
    classifier = IntentClassifier(BagOfWordsEmbedder(), Exemplars(("de",), GERMAN), tuning)
    return Understander(None, {"de": classifier})


def test_a_turn_in_another_language_is_read_by_its_classifier() -> None:
    heard = german()("Wo ist meine Bestellung?", language="de")
    assert heard.intents == (Intent.ORDER_STATUS,)
    assert heard.text == "wo ist meine bestellung"
    answer = german()("Ja bitte", language="de")
    assert answer.intents == ()
    assert answer.yes_no is True  # read through the German lexicon
    assert german()("Nein, danke", language="de").yes_no is False


def test_its_control_requests_are_decisive() -> None:
    heard = german()("Verbinden Sie mich mit einem Mitarbeiter, das ist eine Frechheit", "de")
    assert heard.intent is Intent.HUMAN
    assert german()("Wie bitte?", language="de").intents == (Intent.REPEAT,)


def test_its_turn_of_two_requests_splits_at_its_joining_words() -> None:
    heard = german()("Wo ist meine Bestellung und ich brauche eine Rechnung", language="de")
    assert heard.intents == (Intent.ORDER_STATUS, Intent.INVOICE)
    heard = german()("Ich brauche eine Rechnung. Außerdem: wo ist meine Bestellung?", "de")
    assert heard.intents == (Intent.INVOICE, Intent.ORDER_STATUS)


def test_its_goodbye_ending_a_request_comes_last() -> None:
    heard = german()("Ich brauche eine Rechnung, tschüss", language="de")
    assert heard.intents == (Intent.INVOICE, Intent.GOODBYE)


def test_its_request_called_off_is_none() -> None:
    heard = german()("Bitte nicht stornieren, die Adresse ändern", language="de")
    assert heard.intents == (Intent.ADDRESS_CHANGE,)


def test_it_has_no_broad_rules_to_fall_back_on() -> None:
    # English's broad rules would read "order" here; a German turn the classifier cannot
    # place is no request.
    assert german()("order tracking status", language="de").intents == ()


def test_an_english_turn_still_takes_the_english_path() -> None:
    both = Understander(understander().classifier, {"de": german().by_language["de"]})
    assert both("Where is my order? And can I get an invoice?").intents == (
        Intent.ORDER_STATUS,
        Intent.INVOICE,
    )
    assert both("Wo ist meine Bestellung?", language="de").intents == (Intent.ORDER_STATUS,)


def test_without_a_classifier_another_language_has_its_control_rules() -> None:
    assert Understander()("Können Sie das wiederholen?", language="de").intents == (
        Intent.REPEAT,
    )
    assert Understander()("Wo ist meine Bestellung?", language="de").intents == ()


def test_a_language_without_rules_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no understanding rules for language 'it'"):
        german()("dov'è il mio ordine", language="it")
