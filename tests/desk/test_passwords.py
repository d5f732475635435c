"""Operators' passwords: argon2id hashes with their own salt, and the strength rule."""

from __future__ import annotations

import pytest

from voice_agent.desk.passwords import (
    MIN_PASSWORD_LENGTH,
    WeakPasswordError,
    check_strength,
    dummy_verify,
    hash_password,
    needs_rehash,
    verify_password,
)


def test_a_hash_is_argon2id_salted_and_verifies_only_its_password() -> None:
    first, second = hash_password("tulips in the rain"), hash_password("tulips in the rain")
    assert first.startswith("$argon2id$")
    assert first != second  # each with its own salt
    assert "tulips" not in first
    assert verify_password(first, "tulips in the rain")
    assert verify_password(second, "tulips in the rain")
    assert not verify_password(first, "tulips in the rain ")
    assert not verify_password(first, "")
    assert not needs_rehash(first)


def test_a_broken_hash_verifies_nothing() -> None:
    assert not verify_password("not-a-hash", "anything at all")
    assert not needs_rehash("not-a-hash")
    dummy_verify("anything at all")  # spends the time, raises nothing


def test_weak_passwords_are_refused_with_the_reason() -> None:
    with pytest.raises(WeakPasswordError, match=f"at least {MIN_PASSWORD_LENGTH} characters"):
        check_strength("x" * (MIN_PASSWORD_LENGTH - 1), "alice")
    with pytest.raises(WeakPasswordError, match="must not be the user name"):
        check_strength("Alice.Admin", "alice.admin")
    check_strength("x" * MIN_PASSWORD_LENGTH, "alice")
