"""Entities as callers say them and as Whisper writes them."""

from __future__ import annotations

from datetime import date

import pytest

from voice_agent.dialogue import entities

# (what the caller said, as ASR wrote it) -> the digits meant
SPOKEN_NUMBERS: list[tuple[str, str]] = [
    ("four five six seven", "4567"),
    ("Four, five, six, seven.", "4567"),
    ("four-five-six-seven", "4567"),
    ("4567", "4567"),
    ("4567.", "4567"),
    ("45 67", "4567"),
    ("45, 67", "4567"),
    ("4-5-6-7", "4567"),
    ("4 5 6 7", "4567"),
    ("It's 4, 5, 6, 7.", "4567"),
    ("4,567", "4567"),
    ("forty-five sixty-seven", "4567"),
    ("Forty five, sixty seven.", "4567"),
    ("four thousand five hundred sixty seven", "4567"),
    ("four thousand five hundred and sixty-seven", "4567"),
    ("forty-five hundred and sixty-seven", "4567"),
    ("four five six 7", "4567"),
    ("four 56 seven", "4567"),
    ("double seven", "77"),
    ("Double 7.", "77"),
    ("triple zero", "000"),
    ("treble one", "111"),
    ("four double five seven", "4557"),
    ("one oh four five seven", "10457"),
    ("one o four five seven", "10457"),
    ("four oh five six", "4056"),
    ("double oh seven", "007"),
    ("one zero four five nine", "10459"),
    ("ten four five nine", "10459"),
    ("one oh, um, four five nine", "10459"),
    ("uh my order number is one zero, um, two three one", "10231"),
    ("My order is 45067 please.", "45067"),
    ("It's order number 4 5 0 6 7.", "45067"),
    ("forty-five oh sixty-seven", "45067"),
    ("four five zero six seven", "45067"),
    ("forty five thousand and sixty seven", "45067"),
    ("three one one double four", "31144"),
    ("five eight eight one two", "58812"),
    ("fifty-eight eight twelve", "58812"),
    ("twenty seven eighty six", "2786"),
    ("nineteen eighty four", "1984"),
    ("a hundred and one", "101"),
    ("nine nine nine double eight", "99988"),
    ("Oh, 4567", "4567"),
    ("zero one two three", "0123"),
    ("nought seven seven", "077"),
    ("twelve thirty-four", "1234"),
    ("one two, three four", "1234"),
    ("0-3 to 1", "0321"),  # ASR's "to" for a two said alone
    ("4 for 5 6", "4456"),
]


@pytest.mark.parametrize(("said", "digits"), SPOKEN_NUMBERS)
def test_spoken_numbers_become_digits(said: str, digits: str) -> None:
    assert entities.spoken_digits(said) == digits


def test_the_table_has_at_least_forty_phrasings() -> None:
    assert len({said for said, _ in SPOKEN_NUMBERS}) >= 40


def test_separate_numbers_stay_separate_runs() -> None:
    assert entities.digit_runs("order 45067, postcode 10119") == ["45067", "10119"]
    assert entities.digit_runs("I ordered two mugs") == ["2"]
    assert entities.digit_runs("oh no, it's lost") == []
    assert entities.digit_runs("order 4567 for 2 weeks") == ["4567", "2"]
    assert entities.digit_runs("I went to 5 shops") == ["5"]


@pytest.mark.parametrize(
    ("said", "dtmf", "number"),
    [
        ("my order number is four five zero six seven", None, "45067"),
        ("forty-five oh sixty-seven", None, "45067"),
        ("four five six seven", None, None),  # four digits: not an order number here
        ("", "45067#", "45067"),
        ("", "4506#7", None),  # the hash ends the entry
        ("", "*45067", "45067"),
        ("order one oh four, five seven", None, "10457"),
        ("zero eight eight one four no sorry five eight eight one four", None, "58814"),
        ("oh wait here it is, 58814", None, "58814"),
        ("45069, no wait", None, "45069"),
    ],
)
def test_order_numbers_of_the_expected_length(
    said: str, dtmf: str | None, number: str | None
) -> None:
    assert entities.order_number(said, dtmf, (5, 5)) == number


def test_phone_tail_from_a_full_number_or_four_digits() -> None:
    assert entities.phone_tail("it ends in one two three four", None) == "1234"
    assert (
        entities.phone_tail("plus four nine three oh five five five oh one two three four", None)
        == "1234"
    )
    assert entities.phone_tail("", "1234#") == "1234"
    assert entities.phone_tail("one two three", None) is None


@pytest.mark.parametrize(
    ("said", "address"),
    [
        ("j o h n at example dot com", "john@example.com"),
        ("john dot smith at gmail dot com", "john.smith@gmail.com"),
        ("My email is John.Smith@gmail.com.", "john.smith@gmail.com"),
        ("It's anna dot schmidt at example dot com", "anna.schmidt@example.com"),
        ("l dot weber at example dot net", "l.weber@example.net"),
        ("jay oh aitch en at example dot org", "john@example.org"),
        ("double u e b at mail dot com", "web@mail.com"),
        ("amelia underscore c at example dot org", "amelia_c@example.org"),
        ("j carter at example dot com", "jcarter@example.com"),
        ("no e-mail here", None),
    ],
)
def test_email_addresses_spelled_out(said: str, address: str | None) -> None:
    assert entities.email_address(said) == address


@pytest.mark.parametrize(
    ("said", "letters"),
    [
        ("J O H", "joh"),
        ("J-O-H.", "joh"),
        ("jay oh aitch", "joh"),
        ("the first three letters are A N N", "ann"),
        ("my email starts with b e a", "bea"),
        ("capital C, L, A", "cla"),
        ("Anne", "anne"),
        ("it's l dot w e", "lwe"),
        ("I want to return my order", None),
        ("I don't know", None),
    ],
)
def test_email_letters_as_spelled(said: str, letters: str | None) -> None:
    assert entities.spelled_letters(said) == letters


@pytest.mark.parametrize(
    ("said", "postcode"),
    [
        ("S W one A one A A", "SW1A 1AA"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a 1aa", "SW1A 1AA"),
        ("It is E H one one Y Z", "EH1 1YZ"),
        ("M one, one A E", "M1 1AE"),
        ("postcode M one one A E, I want to complain", "M1 1AE"),
        ("M five V two T six", "M5V 2T6"),
        ("my postcode is 10119", "10119"),
        ("one oh one one nine", "10119"),
        ("1012 AB", "1012 AB"),
        ("one zero one two A B", "1012 AB"),
        ("01310-100", "01310-100"),
        ("zero one three one zero dash one hundred", "01310-100"),
        ("two thousand", "2000"),
        ("no postcode in this", None),
    ],
)
def test_postcodes_with_letters(said: str, postcode: str | None) -> None:
    assert entities.postcode(said) == postcode


def test_postcodes_compare_without_spaces_case_or_o_for_zero() -> None:
    assert entities.compact_code("sw1a 1aa") == entities.compact_code("SW1A1AA")
    assert entities.compact_code("1O119") == entities.compact_code("10119")
    assert entities.compact_code("M5V 2T6") != entities.compact_code("M5V 2T7")


TODAY = date(2024, 11, 13)  # a Wednesday


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("yesterday", date(2024, 11, 12)),
        ("the day before yesterday", date(2024, 11, 11)),
        ("today", TODAY),
        ("last Tuesday", date(2024, 11, 12)),
        ("on Monday", date(2024, 11, 11)),
        ("on Wednesday", date(2024, 11, 6)),
        ("the 3rd of November", date(2024, 11, 3)),
        ("on the third of november", date(2024, 11, 3)),
        ("November 3rd", date(2024, 11, 3)),
        ("twenty first of October", date(2024, 10, 21)),
        ("the 20th of December", date(2023, 12, 20)),  # no year: the latest one past
        ("4th of July 2023", date(2023, 7, 4)),
        ("2024-11-03", date(2024, 11, 3)),
        ("five days ago", date(2024, 11, 8)),
        ("a week ago", date(2024, 11, 6)),
        ("two weeks ago", date(2024, 10, 30)),
        ("I may call again", None),
        ("no date here", None),
    ],
)
def test_dates_callers_mention(said: str, day: date | None) -> None:
    assert entities.mentioned_date(said, TODAY) == day


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("yes", True),
        ("Yes please.", True),
        ("Yeah, go ahead.", True),
        ("Sure.", True),
        ("That's right.", True),
        ("Okay.", True),
        ("no", False),
        ("No thanks.", False),
        ("Nope, don't.", False),
        ("That's not right.", False),
        ("I'm not sure.", None),
        ("hmm", None),
        ("yes, no, wait", None),
    ],
)
def test_yes_or_no(said: str, answer: bool | None) -> None:
    assert entities.yes_or_no(said) is answer


def test_keypad_digits() -> None:
    assert entities.dtmf_digits("4567#") == "4567"
    assert entities.dtmf_digits("*45#67") == "45"
    assert entities.spoken_digits("ignored", dtmf="4567#") == "4567"


def test_an_email_address_after_words_naming_it() -> None:
    said = "you can look it up with my email, fiona dot campbell at example dot com"
    assert entities.email_address(said) == "fiona.campbell@example.com"
    assert entities.email_address("my email is anna dot schmidt at example dot com") == (
        "anna.schmidt@example.com"
    )


@pytest.mark.parametrize(
    ("said", "letters"),
    [
        ("my e-mail starts with i s a", "isa"),
        ("it starts with i, s, a", "isa"),
        ("i think a n n", "ann"),
    ],
)
def test_a_spelled_i_is_a_letter_not_the_caller(said: str, letters: str) -> None:
    assert entities.spelled_letters(said) == letters
