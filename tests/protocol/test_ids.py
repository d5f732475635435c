from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from voice_agent.logs import redact
from voice_agent.protocol.ids import random_hex_id


def test_an_all_digit_id_is_drawn_again_since_the_logs_would_mask_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: Iterator[str] = iter(["9880747824520650", "98807478245206a0"])
    monkeypatch.setattr(secrets, "token_hex", lambda nbytes: next(drawn))
    assert redact("web call 9880747824520650 ends") == "web call [phone] ends"  # why
    call_id = random_hex_id(8)
    assert call_id == "98807478245206a0"
    assert redact(f"web call {call_id} ends") == f"web call {call_id} ends"


def test_ids_have_the_length_asked_for() -> None:
    assert {len(random_hex_id(8)) for _ in range(50)} == {16}
