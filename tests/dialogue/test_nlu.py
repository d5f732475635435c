"""Intents as callers say them (Whisper's punctuation and casing included)."""

from __future__ import annotations

import pytest

from voice_agent.dialogue.nlu import Intent, classify, is_frustrated, is_thanks, understand

PHRASES: list[tuple[str, Intent | None]] = [
    ("Where is my order?", Intent.ORDER_STATUS),
    ("where's my parcel", Intent.ORDER_STATUS),
    ("Can you track my package please?", Intent.ORDER_STATUS),
    ("When will it arrive?", Intent.ORDER_STATUS),
    ("Has my order been shipped?", Intent.ORDER_STATUS),
    ("I have a question about my order.", Intent.ORDER_STATUS),
    ("My parcel never arrived.", Intent.LOST_PARCEL),
    ("It still hasn't arrived", Intent.LOST_PARCEL),
    ("I think my package is lost.", Intent.LOST_PARCEL),
    ("The tracking has had no updates for weeks", Intent.LOST_PARCEL),
    ("My parcel is stuck.", Intent.LOST_PARCEL),
    ("I haven't received my order", Intent.LOST_PARCEL),
    ("I'd like to open a claim.", Intent.LOST_PARCEL),
    ("I want to return the dress.", Intent.RETURN),
    ("Can I get a refund?", Intent.RETURN),
    ("The shoes don't fit, can I send them back?", Intent.RETURN),
    ("Do I have to pay import duties?", Intent.DUTIES),
    ("Why is there a customs charge?", Intent.DUTIES),
    ("Who pays the VAT?", Intent.DUTIES),
    ("It's held at customs, do I have to pay tax?", Intent.DUTIES),
    ("I need to change my delivery address.", Intent.ADDRESS_CHANGE),
    ("I've moved, can you send it to a different address?", Intent.ADDRESS_CHANGE),
    ("Can I speak to a real person?", Intent.HUMAN),
    ("I want to talk to someone.", Intent.HUMAN),
    ("Customer service, please.", Intent.HUMAN),
    ("Could you repeat that?", Intent.REPEAT),
    ("Sorry, what did you say?", Intent.REPEAT),
    ("Say that again please.", Intent.REPEAT),
    ("What was that?", Intent.REPEAT),
    ("It says delivered but I didn't get it.", Intent.NOT_RECEIVED),
    ("I'd like to know where my package is.", Intent.ORDER_STATUS),
    ("Bye!", Intent.GOODBYE),
    ("No, that's all, thanks.", Intent.GOODBYE),
    ("Okay, have a nice day.", Intent.GOODBYE),
    ("What is the yoga mat made of?", Intent.PRODUCT),
    ("Does the power bank work with an iPhone 13?", Intent.PRODUCT),
    ("How long does shipping to Germany take?", Intent.PRODUCT),
    ("What sizes does the dress come in?", Intent.PRODUCT),
    ("Does it have night vision?", Intent.PRODUCT),
    ("What's the weather like today?", None),
    ("Can you book me a taxi?", None),
    ("Tell me a joke.", None),
    ("my email address is j o h", None),
    ("four five zero six seven", None),
    ("yes please", None),
]


@pytest.mark.parametrize(("said", "intent"), PHRASES)
def test_intents(said: str, intent: Intent | None) -> None:
    assert classify(said) is intent


def test_thanks_alone_is_not_a_request() -> None:
    assert is_thanks("Thank you so much!")
    assert is_thanks("Okay, thanks.")
    assert not is_thanks("Thanks, and where is my order?")
    assert not is_thanks("No thanks.")


def test_understanding_carries_the_yes_or_no() -> None:
    heard = understand("No, I want to return it.")
    assert heard.intent is Intent.RETURN
    assert heard.yes_no is False
    assert heard.text == "no i want to return it"


@pytest.mark.parametrize(
    "said",
    [
        "honestly this is unbelievable",
        "I want my money back right now",
        "no one tells me anything",
        "oh great, just great, another delay",
        "this is the second time I ring about it",
        "for god's sake where is it",
        "what the hell is going on, it's still nothing",
        "my parcel is LOST",
        "are you kidding me",
    ],
)
def test_anger_and_impatience_are_frustration(said: str) -> None:
    assert is_frustrated(said)


@pytest.mark.parametrize(
    "said",
    ["where is my order", "it came with DHL", "yes please", "perfect, thank you", "hello"],
)
def test_calm_turns_are_not_frustration(said: str) -> None:
    assert not is_frustrated(said)
