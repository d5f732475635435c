import pytest

from voice_agent.settings import TurnSettings
from voice_agent.stages.asr import Expect
from voice_agent.stages.turn.endpoint import Endpointer, trails_off

SETTINGS = TurnSettings()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is my order?", False),
        ("My order number is", True),
        ("I want to talk to a person.", False),
        ("It's about my order and", True),
        ("um", True),
        ("The postcode is", True),
        ("I ordered a lamp,", True),
        ("Yes.", False),
        ("", True),
        ("Hmm, let me see.", True),
        ("Hold on.", True),
        ("One moment, please", True),
        ("Just a second...", True),
        ("Wait a minute.", True),
        ("I'll wait.", False),
        ("Let me see the order status.", False),
        ("Yes, I have it, it's order number.", True),
        ("And the phone number", True),
        ("I can't find the order number anywhere.", False),
    ],
)
def test_trailing_words_mark_an_unfinished_sentence(text: str, expected: bool) -> None:
    assert trails_off(text) is expected


def test_hold_depends_on_what_is_expected() -> None:
    endpointer = Endpointer(SETTINGS)
    assert endpointer.hold(Expect.FREE, "Where is my parcel?") == SETTINGS.hold_complete_s
    assert endpointer.hold(Expect.FREE, "My order number is") == SETTINGS.hold_incomplete_s
    assert endpointer.hold(Expect.YES_NO, "Yes please.") == SETTINGS.hold_yes_no_s
    assert endpointer.hold(Expect.DIGITS, "4 5 6") == SETTINGS.hold_digits_s
    assert endpointer.hold(Expect.EMAIL, "j o h") == SETTINGS.hold_email_s


def test_a_complete_entity_commits_fast() -> None:
    endpointer = Endpointer(SETTINGS)
    assert (
        endpointer.hold(Expect.DIGITS, "1 0 4 2 7", entity_complete=True)
        == SETTINGS.hold_complete_s
    )
    assert endpointer.hold(Expect.DIGITS, "1 0 4", entity_complete=False) == SETTINGS.hold_digits_s


def test_holds_keep_callers_who_pause_mid_number() -> None:
    # A caller pausing 600 ms inside an order number must not be cut off.
    assert SETTINGS.hold_digits_s > 0.6
    assert SETTINGS.hold_incomplete_s > 0.6


@pytest.mark.parametrize(
    ("expect", "text", "hold"),
    [
        (Expect.DIGITS, "It's 4 7 7", SETTINGS.hold_digits_s),
        (Expect.DIGITS, "It's four seven seven,", SETTINGS.hold_digits_s),
        (Expect.DIGITS, "forty five", SETTINGS.hold_digits_s),
        (Expect.DIGITS, "double", SETTINGS.hold_digits_s),
        (Expect.DIGITS, "No thanks, goodbye.", SETTINGS.hold_complete_s),
        (Expect.DIGITS, "I don't have it.", SETTINGS.hold_complete_s),
        (Expect.DIGITS, "my order number is", SETTINGS.hold_digits_s),
        (Expect.EMAIL, "It's j o h", SETTINGS.hold_email_s),
        (Expect.EMAIL, "john at", SETTINGS.hold_email_s),
        (Expect.EMAIL, "Can I talk to a person instead?", SETTINGS.hold_complete_s),
    ],
)
def test_without_the_dialogue_s_verdict_an_entity_holds_while_it_is_being_given(
    expect: Expect, text: str, hold: float
) -> None:
    assert Endpointer(SETTINGS).hold(expect, text, entity_complete=None) == hold


def test_the_dialogue_s_verdict_decides_when_it_has_one() -> None:
    endpointer = Endpointer(SETTINGS)
    # ASR wrote "five eight eight" as words that are no number: the caller may go on.
    assert endpointer.hold(Expect.DIGITS, "It's i made it.", entity_complete=False) == (
        SETTINGS.hold_digits_s
    )
    assert endpointer.hold(Expect.DIGITS, "No thanks, goodbye.", entity_complete=True) == (
        SETTINGS.hold_complete_s
    )
