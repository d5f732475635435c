"""Sign-in mechanics: tokens, their hashes, the Secure flag, and the throttle."""

from __future__ import annotations

import hashlib

import pytest

from voice_agent.desk.auth import (
    LoginThrottle,
    new_token,
    same_token,
    secure_cookie,
    throttle_keys,
    token_hash,
)


def test_tokens_are_random_and_only_their_sha256_is_kept() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    token = tokens.pop()
    assert len(token) >= 43  # 256 bits, URL-safe base64
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in token_hash(token)


def test_tokens_match_only_when_equal_and_given() -> None:
    assert same_token("abc", "abc")
    assert not same_token("abc", "abd")
    assert not same_token("abc", None)
    assert not same_token("", "")


@pytest.mark.parametrize(
    ("setting", "scheme", "host", "secure"),
    [
        ("auto", "http", "127.0.0.1:8080", False),
        ("auto", "http", "localhost:8080", False),
        ("auto", "http", "[::1]:8080", False),
        ("auto", "http", "desk.shop.example", True),
        ("auto", "https", "127.0.0.1:8443", True),
        ("always", "http", "127.0.0.1:8080", True),
        ("never", "https", "desk.shop.example", False),
    ],
)
def test_the_secure_flag_follows_the_setting(
    setting: str, scheme: str, host: str, secure: bool
) -> None:
    assert secure_cookie(setting, scheme, host) is secure


def test_repeated_failures_hold_sign_ins_back_for_a_while() -> None:
    throttle = LoginThrottle(max_failures=3, window_s=60.0)
    keys = throttle_keys("Alice", "192.0.2.1")
    for at in (0.0, 1.0):
        throttle.failed(keys, at)
    assert throttle.wait_s(keys, 2.0) == 0
    throttle.failed(keys, 2.0)
    assert throttle.wait_s(keys, 2.0) == pytest.approx(58.0)
    other_name = throttle_keys("bob", "192.0.2.1")
    assert throttle.wait_s(other_name, 30.0) > 0  # the address is held back too
    other_address = throttle_keys("alice", "198.51.100.2")
    assert throttle.wait_s(other_address, 30.0) > 0  # and the name, from anywhere
    assert throttle.wait_s(keys, 60.5) == 0  # the first failure has aged out
    throttle.failed(keys, 61.0)
    throttle.failed(keys, 61.0)
    assert throttle.wait_s(keys, 61.0) > 0
    throttle.succeeded(keys)
    assert throttle.wait_s(keys, 61.0) == 0


def test_the_throttle_forgets_the_oldest_names_first() -> None:
    throttle = LoginThrottle(max_failures=1, window_s=60.0, max_keys=4)
    for n in range(4):
        throttle.failed((f"user:{n}",), 0.0)
    assert throttle.wait_s(("user:0",), 1.0) > 0
    throttle.failed(("user:new",), 1.0)
    assert throttle.wait_s(("user:new",), 1.0) > 0
    assert throttle.wait_s(("user:0",), 1.0) == 0
