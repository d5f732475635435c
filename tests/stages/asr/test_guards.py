"""The fast path's guards: loops, token budget and empty output send it to the stock path, and
a long number the stock path heard more digits of is taken from the stock path."""

import pytest

from voice_agent.stages.asr import Expect
from voice_agent.stages.asr.guards import (
    FallbackReason,
    digit_count,
    fallback_reason,
    is_loop,
    number_to_confirm,
    repeated_ngrams,
    stopped_short,
    without_echoed_tail,
    words_of,
)


def test_words_are_lower_case_and_digit_runs_split() -> None:
    assert words_of("Order 4567, please!") == ["order", "4", "5", "6", "7", "please"]


@pytest.mark.parametrize(
    "text",
    [
        "yes yes yes",
        "Yes. Yes. Yes. Yes.",
        "Where is my parcel? Where is my parcel? Where is my parcel?",
        "I want to I want to I want to return it",
        "thank you thank you thank you",
        "1 1 1 1 1 1",
        "7777777",
    ],
)
def test_loops_are_detected(text: str) -> None:
    assert is_loop(text)


@pytest.mark.parametrize(
    "text",
    [
        "Where is my parcel?",
        "yes yes",
        "My order number is 7 7 3 1.",
        "The postcode is 1 0 0 0 1.",
        "It is 5 0 0 0 2.",
        "no, no, I said the blue one, not the red one",
    ],
)
def test_ordinary_speech_and_repeated_digits_are_not_loops(text: str) -> None:
    assert not is_loop(text)


def test_repeated_ngrams_names_every_repeated_run() -> None:
    words = "a b a b a b c c c".split()
    assert repeated_ngrams(words, 3) == {("a", "b"), ("c",)}
    assert repeated_ngrams(words, 4) == set()


@pytest.mark.parametrize(
    ("text", "tokens", "budget", "reason"),
    [
        ("", 0, 20, FallbackReason.EMPTY),
        (" . ", 1, 20, FallbackReason.EMPTY),
        ("My order number is 4 5 6 7 8 9 1 2", 20, 20, FallbackReason.BUDGET),
        ("okay okay okay okay", 5, 20, FallbackReason.LOOP),
        ("Where is my parcel?", 6, 20, None),
    ],
)
def test_fallback_reason(
    text: str, tokens: int, budget: int, reason: FallbackReason | None
) -> None:
    assert fallback_reason(text, tokens, budget) is reason


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            "Hello, Mr. Smith your parcel should arrive within five working days "
            "Within five working day's",
            "Hello, Mr. Smith your parcel should arrive within five working days",
        ),
        ("I want to talk to a person, talk to a person.", "I want to talk to a person,"),
        ("My order is 4 5 6 4 5 6", "My order is 4 5 6 4 5 6"),  # numbers are repeated
        ("four five six, four five six", "four five six, four five six"),
        ("Where is my order?", "Where is my order?"),
        ("no no", "no no"),  # too short to tell
    ],
)
def test_a_phrase_said_twice_at_the_very_end_is_kept_once(text: str, kept: str) -> None:
    assert without_echoed_tail(text) == kept


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("It's plus 4 4 7 7 0 0 9", 7),
        ("It's 01765551234.", 11),
        ("my number is oh one seven six, double five", 6),
        ("Plus 4, 4, 7, 7 0, 0, 9", 7),
        ("Where is my parcel?", 0),
    ],
)
def test_digits_are_counted_written_or_spoken(text: str, count: int) -> None:
    assert digit_count(text) == count


@pytest.mark.parametrize(
    ("text", "expect", "min_digits", "checked"),
    [
        ("It's plus 4 4 7 7 0 0 9", Expect.EMAIL, 6, True),
        ("It's 0 1 7 6 5 5", Expect.EMAIL, 6, True),
        ("It's 0 1 7 6 5", Expect.EMAIL, 6, False),  # an e-mail's few digits are not a number
        ("anna 7 2 at example dot com", Expect.EMAIL, 6, False),
        ("It's plus 4 4 7 7 0 0 9", Expect.EMAIL, 0, False),  # the check is off
        ("My order number is 4 8 2 9 1 7 3", Expect.DIGITS, 6, False),
        ("4 4 7 7 0 0 9", Expect.FREE, 6, False),
    ],
)
def test_a_long_number_is_checked_where_a_phone_number_may_be_said(
    text: str, expect: Expect, min_digits: int, checked: bool
) -> None:
    assert number_to_confirm(text, expect, min_digits) is checked


@pytest.mark.parametrize(
    ("fast", "stock", "short"),
    [
        ("It's plus 4 4 7 7 0 0 9", "it's plus 4 4 7 7 0 0 9 0 0 1 2 3", True),
        ("It's 0176551234", "It's 01765551234.", True),  # a digit dropped inside
        ("It's 01765551234", "It's 0 1 7 6 5 5 5 1 2 3 4.", False),  # the same digits
        ("It's 01765551234", "It's 0 1 7 6 5 5 1 2 3 4.", False),  # the stock path heard fewer
        ("It's 0 1 7 6 5 5", "It's 0 1 7 6 5 5 0 0 0 0 0 0", False),  # the stock path loops
    ],
)
def test_the_stock_reading_answers_when_it_heard_more_digits(
    fast: str, stock: str, short: bool
) -> None:
    assert stopped_short(fast, stock) is short


@pytest.mark.parametrize(
    ("text", "language", "count"),
    [
        ("Sie erreichen mich unter null eins sieben sechs, fünf fünf eins.", "de", 7),
        ("Mi teléfono es seis uno cinco, ocho tres siete.", "es", 6),
        ("Mon numéro est le zéro six, douze, trente-quatre.", "fr", 6),
        ("Meu telefone é onze, nove oito sete, seis.", "pt", 6),
        ("Meine Nummer ist 0176 555.", "de", 7),
        # English words mean nothing in another language: Spanish "o" is "or", not 0.
        ("Uno o dos paquetes, para el lunes.", "es", 2),
        ("Wo ist mein Paket?", "de", 0),
    ],
)
def test_digits_are_counted_in_the_transcripts_language(
    text: str, language: str, count: int
) -> None:
    assert digit_count(text, language) == count


def test_a_long_number_said_in_words_is_checked_in_its_language() -> None:
    spanish = "Mi teléfono es seis uno cinco ocho tres siete"
    assert number_to_confirm(spanish, Expect.EMAIL, 6, "es")
    assert not number_to_confirm(spanish, Expect.EMAIL, 6, "en")  # no English digit words
    assert stopped_short(spanish, spanish + " cuatro seis nueve", "es")
    assert not stopped_short(spanish + " cuatro", spanish, "es")


@pytest.mark.parametrize(
    ("text", "language", "kept"),
    [
        (
            "El paquete llega dentro de cinco días hábiles dentro de cinco días hábiles",
            "es",
            "El paquete llega dentro de cinco días hábiles",
        ),
        # A number said again is the caller's, in any language: never taken for an echo.
        ("Meine Nummer ist vier fünf sechs vier fünf sechs", "de", None),
        ("Mi número es dos tres seis dos tres seis", "es", None),
        ("Mon code est trois deux un trois deux un", "fr", None),
        ("O código é dois três seis dois três seis", "pt", None),
    ],
)
def test_an_echo_is_told_from_a_number_said_again_in_every_language(
    text: str, language: str, kept: str | None
) -> None:
    assert without_echoed_tail(text, language) == (kept or text)


@pytest.mark.parametrize(
    ("text", "language", "loop"),
    [
        # A digit said three times in a phone number is a number, in words of any language.
        ("Unter null eins sieben fünf fünf fünf eins zwei", "de", False),
        ("Mi teléfono es seis cinco cinco cinco uno", "es", False),
        ("cinco cinco cinco cinco cinco cinco", "es", True),
        ("bitte bitte bitte bitte", "de", True),
        ("merci, merci, merci, merci", "fr", True),
    ],
)
def test_loops_are_judged_in_the_transcripts_language(text: str, language: str, loop: bool) -> None:
    assert is_loop(text, language) is loop
    budget_reason = fallback_reason(text, 5, 50, language)
    assert budget_reason is (FallbackReason.LOOP if loop else None)
