"""The fast path's guards: loops, token budget and empty output send it to the stock path."""

import pytest

from voice_agent.stages.asr.guards import (
    FallbackReason,
    fallback_reason,
    is_loop,
    repeated_ngrams,
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
