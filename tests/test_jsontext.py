from __future__ import annotations

from decimal import Decimal

import pytest

from voice_agent.jsontext import JsonTextError, parse_json_text


def test_json_is_parsed_with_the_callers_number_type() -> None:
    assert parse_json_text('{"price": 1.10}', parse_float=Decimal) == {"price": Decimal("1.10")}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{", "at line 1, column 2: Expecting property name enclosed in double quotes"),
        ('{"a": 1,\n "b": }', "at line 2, column 7: Expecting value"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a":' * 5_000 + "1" + "}" * 5_000, "nested too deeply"),
    ],
)
def test_bad_json_is_one_error_saying_where_and_why(text: str, says: str) -> None:
    with pytest.raises(JsonTextError) as error:
        parse_json_text(text)
    assert str(error.value) == says


def test_a_number_too_long_to_read_is_a_json_error_not_a_bare_value_error() -> None:
    # found writing the fuzz target: int() refuses more than 4300 digits with a plain ValueError
    with pytest.raises(JsonTextError, match="a number is too long: Exceeds the limit"):
        parse_json_text('{"qty": ' + "9" * 5_000 + "}")


def test_a_decimal_exponent_out_of_range_is_a_json_error() -> None:
    # found by fuzzing the shop file: Decimal raises InvalidOperation, not a ValueError
    with pytest.raises(JsonTextError, match="a number is out of range"):
        parse_json_text('{"price": 1e1000000000000000000}', parse_float=Decimal)
