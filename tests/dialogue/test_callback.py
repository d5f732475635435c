"""Where to call the caller back: asked of web callers, offered to phone callers (their
caller ID) and to verified callers (their order's phone), read back, stored with the hand-off."""

from __future__ import annotations

import pytest

from tests.dialogue.conftest import ANCHOR, Conversation, new_call
from voice_agent.dialogue import callback
from voice_agent.dialogue.call import CallDialogue
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.nlu import Intent, Understanding
from voice_agent.dialogue.policies import Policies
from voice_agent.dialogue.replies import language
from voice_agent.dialogue.state import Awaiting, Caller
from voice_agent.stages.asr import Expect
from voice_agent.store.repository import Repository

WEB = Caller("webrtc", "web:198.51.100.7")
PHONE = Caller("sip", "sip:+447700900123@203.0.113.5", "+447700900123")
ASK = "What's the best phone number or e-mail address to reach you?"
NO_CALLBACK = "Without a number we can't call you back"


def _web_call(engine: DialogueEngine, repository: Repository) -> Conversation:
    return new_call(engine, repository, caller=WEB)


def _contacts(repository: Repository) -> list[str | None]:
    return [handoff.contact for handoff in repository.handoffs()]


def _asked(call: Conversation, request: str = "Can I talk to a real person, please?") -> None:
    reply = call.say(request)
    assert reply.text.endswith(ASK)
    assert reply.writes == ()  # no ticket until we know where to call back
    assert reply.expect is Expect.EMAIL  # the long hold: a number said with pauses
    assert call.state.awaiting is Awaiting.CALLBACK_CONTACT


# --- web callers: a phone number -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "stored", "read"),
    [
        (
            "It's oh one seven six, one two three, four five six seven",
            "01761234567",
            "zero one seven, six one two three, four five six seven",
        ),
        (
            "zero one seven six double five four three two one oh",
            "01765543210",
            "zero one seven, six five five four, three two one zero",
        ),
        (
            "plus four nine one seven six one two three four five six seven eight",
            "+4917612345678",
            "plus four nine one, seven six one, two three four, five six seven eight",
        ),
        ("You can reach me on +49 176 1234 5678", "+4917612345678", "plus four nine one"),
        ("my mobile is 07700 900 123", "07700900123", "zero seven seven, zero zero nine zero"),
        (
            "double oh four four, seven seven double oh, nine hundred, one two three",
            "+447700900123",
            "plus four four seven",
        ),
        ("um, 0 2 0, 7 9 4 6, 0 3 2 1", "02079460321", "zero two zero, seven nine four six"),
    ],
)
def test_a_web_caller_gives_a_phone_number_and_confirms_it(
    engine: DialogueEngine, repository: Repository, said: str, stored: str, read: str
) -> None:
    call = _web_call(engine, repository)
    _asked(call)
    heard = call.say(said)
    assert heard.text.startswith(f"Thanks. That's {read}")
    assert heard.text.endswith("Is that right?")
    assert heard.writes == ()
    done = call.say("yes, that's right")
    assert _contacts(repository) == [stored]
    assert "A colleague will call you back today, by 4 PM London time." in done.text
    assert "Your reference is" in done.text
    assert done.actions[0]["contact"] == stored


def test_a_number_typed_on_the_keypad(engine: DialogueEngine, repository: Repository) -> None:
    call = _web_call(engine, repository)
    _asked(call)
    call.say("", dtmf="07700900123#")
    call.say("correct")
    assert _contacts(repository) == ["07700900123"]


# --- web callers: an e-mail address --------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "stored", "read"),
    [
        (
            "a n n a dot s c h m i d t at example dot com",
            "anna.schmidt@example.com",
            "anna dot schmidt at example dot com",
        ),
        (
            "my email is j o h n underscore d o e at g m x dot d e",
            "john_doe@gmx.de",
            "john underscore doe at G M X dot D E",
        ),
        (
            "you can reach me at fiona dot campbell at example dot co dot uk",
            "fiona.campbell@example.co.uk",
            "fiona dot campbell at example dot C O dot U K",
        ),
        ("Email me at L.Weber@example.net", "l.weber@example.net", "L dot weber at example dot"),
        (
            "it's capital M, a, x, seven, seven at web dot de",
            "max77@web.de",
            "max seven seven at web dot D E",
        ),
    ],
)
def test_a_web_caller_spells_an_email_address(
    engine: DialogueEngine, repository: Repository, said: str, stored: str, read: str
) -> None:
    call = _web_call(engine, repository)
    _asked(call)
    heard = call.say(said)
    assert heard.text.startswith(f"Thanks. That's {read}")
    call.say("yep")
    assert _contacts(repository) == [stored]


# --- corrections, refusals, failures -------------------------------------------------------------


@pytest.mark.parametrize(
    "wrong",
    ["no", "no that's wrong", "nope, not right"],
)
def test_a_wrong_read_back_is_corrected(
    engine: DialogueEngine, repository: Repository, wrong: str
) -> None:
    call = _web_call(engine, repository)
    _asked(call)
    call.say("zero one seven six one two three four five six")
    again = call.say(wrong)
    assert "Sorry, my mistake." in again.text
    assert "Please say the number or the e-mail address again." in again.text
    assert again.writes == ()
    call.say("zero one seven six one two three four five six seven")
    call.say("yes")
    assert _contacts(repository) == ["01761234567"]


@pytest.mark.parametrize(
    "correction",
    [
        "no, it's 0176 9876 5432",
        "no sorry, the number is zero one seven six nine eight seven six five four three two",
        "not quite, oh one seven six, nine eight seven, six five four, three two",
    ],
)
def test_a_new_number_instead_of_a_yes_is_read_back(
    engine: DialogueEngine, repository: Repository, correction: str
) -> None:
    call = _web_call(engine, repository)
    _asked(call)
    call.say("zero one seven six one two three four five six seven")
    heard = call.say(correction)
    assert heard.text.startswith("Thanks. That's zero one seven, six nine eight")
    assert heard.writes == ()
    call.say("yes")
    assert _contacts(repository) == ["017698765432"]


@pytest.mark.parametrize(
    "refusal",
    [
        "I'd rather not",
        "no thanks",
        "I don't want to give my number",
        "No.",
        "I prefer not to say",
    ],
)
def test_a_caller_who_gives_no_contact_still_gets_the_hand_off(
    engine: DialogueEngine, repository: Repository, refusal: str
) -> None:
    call = _web_call(engine, repository)
    _asked(call)
    reply = call.say(refusal)
    assert _contacts(repository) == [None]
    # Nobody can call them back: no time is promised, the reference is what they keep.
    assert NO_CALLBACK in reply.text
    assert "call you back today" not in reply.text
    assert "Your reference is" in reply.text
    assert "If you call us again, please give this reference." in reply.text
    assert call.state.awaiting is Awaiting.ANYTHING_ELSE


def test_two_unusable_answers_give_the_hand_off_without_a_contact(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = _web_call(engine, repository)
    _asked(call)
    first = call.say("hmm, hang on, what was it again")
    assert "I didn't get a phone number or an e-mail address." in first.text
    assert "Or say no if you'd rather not give one." in first.text
    assert first.writes == ()
    call.say("one two three")  # too short for a phone number
    assert _contacts(repository) == [None]


def test_two_wrong_read_backs_give_the_hand_off_without_a_contact(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = _web_call(engine, repository)
    _asked(call)
    call.say("zero one seven six one two three four five six")
    call.say("no")
    call.say("zero one seven six one two three four five six")
    call.say("no, wrong")
    assert _contacts(repository) == [None]


def test_a_goodbye_instead_of_a_number_still_leaves_the_ticket(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = _web_call(engine, repository)
    _asked(call)
    reply = call.say("actually never mind, goodbye")
    assert _contacts(repository) == [None]
    assert reply.end_call


def test_a_person_and_a_goodbye_in_one_turn_asks_nothing(
    repository: Repository, policies: Policies
) -> None:
    """As the classifier may read the turn (the rules find only the person in it)."""

    def person_and_goodbye(text: str, language: str = "en") -> Understanding:
        return Understanding(text, Intent.HUMAN, None, (Intent.HUMAN, Intent.GOODBYE))

    leaving = DialogueEngine(repository, policies, understand=person_and_goodbye)
    call = new_call(leaving, repository, caller=WEB)
    reply = call.say("I want to speak to a human, bye")
    assert ASK not in reply.text
    assert _contacts(repository) == [None]
    assert reply.end_call


def test_an_offered_person_accepted_asks_for_the_contact(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = _web_call(engine, repository)
    offered = call.say("What will the weather be like in Berlin tomorrow?")
    assert offered.text.endswith("Or would you like a person to call you back?")
    assert call.say("yes please").text.endswith(ASK)
    call.say("anna dot schmidt at example dot com")
    call.say("yes")
    (ticket,) = repository.handoffs()
    assert ticket.contact == "anna.schmidt@example.com"
    assert ticket.reason.startswith("out of scope")


def test_repeat_while_asked(engine: DialogueEngine, repository: Repository) -> None:
    call = _web_call(engine, repository)
    _asked(call)
    again = call.say("sorry, can you repeat that?")
    assert again.text.endswith(ASK)
    assert call.state.awaiting is Awaiting.CALLBACK_CONTACT


# --- phone callers: their caller ID --------------------------------------------------------------


@pytest.mark.parametrize("yes", ["yes", "yes please, that's fine", "sure", "that's right"])
def test_a_phone_caller_is_called_back_on_their_own_number(
    engine: DialogueEngine, repository: Repository, yes: str
) -> None:
    call = new_call(engine, repository, caller=PHONE)
    offer = call.say("I need to talk to someone")
    assert offer.text.endswith(
        "Shall we call you back on the number you're calling from, ending zero, one, two, three?"
    )
    assert "+44" not in offer.text and "seven, seven" not in offer.text  # only its ending
    done = call.say(yes)
    assert _contacts(repository) == ["+447700900123"]
    assert "A colleague will call you back today" in done.text


@pytest.mark.parametrize(
    "instead",
    [
        "no, call me on oh one seven six one two three four five six seven",
        "No, please use my mobile instead, it's 0176 123 4567",
        "not that one, 01761234567",
    ],
)
def test_a_phone_caller_gives_another_number(
    engine: DialogueEngine, repository: Repository, instead: str
) -> None:
    call = new_call(engine, repository, caller=PHONE)
    call.say("operator please")
    heard = call.say(instead)
    assert heard.text.startswith("Thanks. That's zero one seven, six one two three")
    call.say("yes")
    assert _contacts(repository) == ["01761234567"]


def test_a_phone_caller_who_says_no_is_asked_for_another(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=PHONE)
    call.say("Can I speak to a person?")
    asked = call.say("no")
    assert asked.text == f"No problem. {ASK}"
    call.say("my email is oliver dot bennett at example dot co dot uk")
    call.say("yes")
    assert _contacts(repository) == ["oliver.bennett@example.co.uk"]


def test_a_phone_caller_hanging_up_keeps_their_number(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=PHONE)
    call.say("Can I speak to a person?")
    call.say("thanks, bye")
    assert _contacts(repository) == ["+447700900123"]


def test_a_withheld_number_is_asked_like_the_web(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=Caller("sip", "sip:anonymous@203.0.113.5"))
    _asked(call)


# --- verified callers: the phone on their order --------------------------------------------------


def test_a_verified_web_caller_is_offered_their_orders_number(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = _web_call(engine, repository)
    call.say("Where is order 45069?")
    call.say("1234")
    assert call.state.verified_order == "45069"
    offer = call.say("Can I talk to someone?")
    assert offer.text.endswith(
        "Shall we call you back on the number on your order, ending one, two, three, four?"
    )
    assert "five, five, five" not in offer.text  # never the whole number
    done = call.say("yes please")
    assert _contacts(repository) == ["+493055501234"]
    assert "today, by 5 PM." in done.text  # Berlin time: the order's country


def test_a_verified_caller_who_declines_gets_the_team_with_the_order(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = _web_call(engine, repository)
    call.say("Where is order 45069?")
    call.say("1234")
    call.say("I'd like to speak to a person")
    call.say("no")
    reply = call.say("I'd rather not")
    assert _contacts(repository) == [None]
    assert "The team will see your call with your order's details." in reply.text
    assert "today, by 5 PM." in reply.text  # reachable through the order
    assert repository.handoffs()[0].order_number == "45069"


def test_an_unverified_caller_hears_no_number_on_record(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = _web_call(engine, repository)
    call.say("Where is order 45069?")
    reply = call.say("I just want a person")
    assert reply.text.endswith(ASK)
    assert "ending" not in reply.text


# --- without any caller: the text chat -----------------------------------------------------------


def test_without_a_caller_the_ticket_is_written_at_once(call: Conversation) -> None:
    reply = call.say("operator please")
    assert ASK not in reply.text
    assert [handoff.contact for handoff in call.repository.handoffs()] == [None]


# --- as the call session uses it -----------------------------------------------------------------


def test_a_number_said_with_pauses_is_not_cut_off(engine: DialogueEngine) -> None:
    dialogue = CallDialogue(engine, caller=WEB)
    state = dialogue.greeting(dialogue.initial_state()).state
    asking = dialogue.respond("I want to talk to a person", None, state, ANCHOR).state
    assert dialogue.entity_complete("it's oh one seven six", asking) is False
    assert dialogue.entity_complete("zero one seven six one two three four five", asking) is False
    assert dialogue.entity_complete("anna dot schmidt at example dot com", asking) is True
    assert dialogue.entity_complete("no thanks", asking) is True


def test_a_read_back_cut_short_is_not_confirmed(
    engine: DialogueEngine, repository: Repository
) -> None:
    dialogue = CallDialogue(engine, caller=WEB)
    state = dialogue.greeting(dialogue.initial_state()).state
    state = dialogue.respond("I want to talk to a person", None, state, ANCHOR).state
    state = dialogue.respond("zero one seven six one two three four", None, state, ANCHOR).state
    assert state.awaiting is Awaiting.CONFIRM_CALLBACK
    cut = dialogue.heard(state, "Thanks.")
    assert cut.awaiting is Awaiting.CALLBACK_CONTACT
    reply = dialogue.respond("yes", None, cut, ANCHOR)
    assert reply.writes == ()
    heard = dialogue.heard(state, " ".join(state.last_reply))
    assert heard.awaiting is Awaiting.CONFIRM_CALLBACK


# --- spoken forms and parsing --------------------------------------------------------------------


def test_phone_numbers_are_read_in_groups() -> None:
    english = language("en")
    assert callback.spoken_phone("0301234567", english) == (
        "zero three zero, one two three, four five six seven"
    )
    assert callback.spoken_phone("01761234567", english) == (
        "zero one seven, six one two three, four five six seven"
    )
    assert callback.spoken_phone("+447700900123", english) == (
        "plus four four seven, seven zero zero, nine zero zero, one two three"
    )


def test_what_is_not_a_contact() -> None:
    assert callback.contact("where is my parcel") is None
    assert callback.contact("call me at four") is None
    assert callback.contact("1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8") is None  # too long
    assert callback.contact("anna at example") is None  # no domain
    assert callback.email("write to me at anna dot schmidt at example dot com") == (
        "anna.schmidt@example.com"
    )


@pytest.mark.parametrize(
    ("said", "stored"),
    [
        ("sure, it's oh seven seven double oh, nine double oh, one two three", "07700900123"),
        ("zero one five one, two two three three, four four five five", "015122334455"),
        ("Yeah my number's 030 1234 5678", "03012345678"),
        ("0 1 7 6 to 3 4 5 6 7 8", "01762345678"),
        ("The best is my cell, 415-555-0199", "4155550199"),
        ("reach me at plus three three, six, twelve, thirty four, fifty six", "+336123456"),
        ("my number is plus 44 7700 900123", "+447700900123"),
        ("it's tom at gmail dot com", "tom@gmail.com"),
        ("j dot smith at outlook dot com", "j.smith@outlook.com"),
        ("anna hyphen maria at web dot de", "anna-maria@web.de"),
        ("my email address is peter.meyer@t-online.de", "peter.meyer@t-online.de"),
    ],
)
def test_contacts_as_callers_say_them(said: str, stored: str) -> None:
    assert callback.contact(said) == stored
