from voice_agent.protocol.numbers import MAX_DELTA_SECONDS, delta_seconds, is_ascii_number


def test_only_ascii_digits_are_numbers() -> None:
    assert is_ascii_number("0123")
    for text in ("", "²", "1²", "٣", " 1", "1.5", "-1"):
        assert not is_ascii_number(text), text


def test_delta_seconds_reads_digits_and_caps_huge_values() -> None:
    assert delta_seconds("3600") == 3600
    assert delta_seconds(" 60 ") == 60
    assert delta_seconds("9" * 1000) == MAX_DELTA_SECONDS
    assert delta_seconds(str(MAX_DELTA_SECONDS + 1)) == MAX_DELTA_SECONDS
    for text in (None, "", "²", "60s", "-5"):
        assert delta_seconds(text) is None, text
