"""Keypad entry on scripted keys with explicit times (no clock, no session)."""

from voice_agent.agent.keypad import KeypadEntry
from voice_agent.agent.ports import DtmfInput

_PAUSE_S = 3.0


def test_the_hash_key_ends_the_entry_at_once() -> None:
    entry = KeypadEntry(_PAUSE_S)
    assert entry.press(DtmfInput("4", 1.0), now=1.0) is None
    assert entry.press(DtmfInput("7", 1.2), now=1.2) is None
    assert entry.press(DtmfInput("#", 1.4), now=1.4) == DtmfInput("47#", 1.0)
    assert entry.due(now=10.0) is None  # answered once, nothing left to collect


def test_keys_in_one_event_ending_with_hash_are_an_entry() -> None:
    entry = KeypadEntry(_PAUSE_S)
    assert entry.press(DtmfInput("12#", 2.0), now=2.0) == DtmfInput("12#", 2.0)


def test_a_pause_after_the_last_key_ends_the_entry() -> None:
    entry = KeypadEntry(_PAUSE_S)
    entry.press(DtmfInput("1", 5.0), now=5.0)
    entry.press(DtmfInput("2", 5.5), now=5.5)
    assert entry.due(now=8.0) is None  # still typing, perhaps
    assert entry.due(now=8.5) == DtmfInput("12", 5.0)
    assert entry.due(now=20.0) is None


def test_the_pause_counts_from_when_the_key_arrived() -> None:
    entry = KeypadEntry(_PAUSE_S)
    entry.press(DtmfInput("9", 1.0), now=2.0)  # typed at 1.0, delivered at 2.0
    assert entry.due(now=4.5) is None
    assert entry.due(now=5.0) == DtmfInput("9", 1.0)


def test_nothing_typed_is_never_due() -> None:
    assert KeypadEntry(_PAUSE_S).due(now=1000.0) is None


def test_the_next_entry_starts_afresh_with_its_own_first_key() -> None:
    entry = KeypadEntry(_PAUSE_S)
    entry.press(DtmfInput("1#", 1.0), now=1.0)
    entry.press(DtmfInput("2", 7.0), now=7.0)
    assert entry.press(DtmfInput("#", 7.5), now=7.5) == DtmfInput("2#", 7.0)
