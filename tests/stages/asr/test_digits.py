"""Spoken digits rewritten as spaced digits when the dialogue expects a number."""

import pytest

from voice_agent.stages.asr.digits import rewrite_digits, spoken_digits_to_text


@pytest.mark.parametrize(
    ("heard", "written"),
    [
        ("four five six", "4 5 6"),
        ("My order number is four five six seven eight.", "My order number is 4 5 6 7 8."),
        ("45678", "4 5 6 7 8"),
        ("7, 7, 3, 1.", "7 7 3 1."),
        ("seven seven three one", "7 7 3 1"),
        ("double seven three", "7 7 3"),
        ("Triple 9, 5.", "9 9 9 5."),
        ("nine oh two one", "9 0 2 1"),
        ("0 to 1 1 8", "0 2 1 1 8"),
        ("forty-two eleven", "4 2 1 1"),
        ("twenty 5", "2 5"),
        ("twenty oh five", "2 0 0 5"),
        ("It's 9-0-2-1.", "It's 9 0 2 1."),
    ],
)
def test_digit_runs_become_spaced_digits(heard: str, written: str) -> None:
    assert spoken_digits_to_text(heard) == written


@pytest.mark.parametrize(
    "text",
    [
        "I want to pay for it",
        "Sorry, I don't have it.",
        "Oh, I see.",
        "the double room",
        "",
    ],
)
def test_words_that_only_sound_like_digits_stay_words(text: str) -> None:
    assert spoken_digits_to_text(text) == text


@pytest.mark.parametrize(
    ("heard", "inferred"),
    [
        ("four five six", False),
        ("My order is 45600.", False),
        ("4, 5, 6", False),
        ("four seven seven oh oh", True),  # "oh" taken for zero
        ("4 to 5", True),  # "to" taken for two
        ("double seven", True),
        ("forty two", True),
        ("fifteen", True),
        ("no digits here", False),
    ],
)
def test_digits_inferred_rather_than_heard_are_flagged(heard: str, inferred: bool) -> None:
    assert rewrite_digits(heard) == (spoken_digits_to_text(heard), inferred)


@pytest.mark.parametrize(
    ("language", "heard"),
    [
        # Another language's words are the dialogue's to read: English number words, repeats
        # and soundalikes would corrupt them ("o" is "or", "ten" "have", "six" French).
        ("es", "Mi número es uno o dos, ten cuidado."),
        ("fr", "Le numéro est quarante-sept, six, double."),
        ("de", "Die Nummer ist vier fünf sechs, oder eins."),
        ("pt", "O número é um dois três, e o CEP é zero um."),
    ],
)
def test_other_languages_keep_their_words(language: str, heard: str) -> None:
    assert rewrite_digits(heard, language) == (heard, False)


@pytest.mark.parametrize(
    ("language", "heard", "written"),
    [
        # Numerals are the same in every language: spaced out as in English.
        ("de", "Meine Nummer ist 456 78.", "Meine Nummer ist 4 5 6 7 8."),
        ("es", "El número es 4-5-6, gracias.", "El número es 4 5 6, gracias."),
        ("fr", "C'est le 06, 12.", "C'est le 0 6 1 2."),
    ],
)
def test_other_languages_have_their_numerals_spaced(
    language: str, heard: str, written: str
) -> None:
    assert rewrite_digits(heard, language) == (written, False)
    assert spoken_digits_to_text(heard, language) == written


def test_english_is_the_language_of_the_number_words() -> None:
    assert rewrite_digits("forty-two, to 3") == rewrite_digits("forty-two, to 3", "en")
    assert rewrite_digits("forty-two, to 3", "en") == ("4 2, to 3", True)
