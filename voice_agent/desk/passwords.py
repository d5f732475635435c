"""Operators' passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory
profile), and the rule a new password must meet."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10

_HASHER = PasswordHasher()


class WeakPasswordError(ValueError):
    """The password is refused; the message says why."""


def check_strength(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"the password is too short: at least {MIN_PASSWORD_LENGTH} characters, please"
        )
    if password.strip().lower() == username.strip().lower():
        raise WeakPasswordError("the password must not be the user name")


def hash_password(password: str) -> str:
    """The argon2id hash of the password, with its parameters and a random salt."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches (blocking: ~50 ms by design; run it off the event loop)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def dummy_verify(password: str) -> None:
    """Spend a verification's time for an unknown user name, so timing does not tell which
    names exist."""
    verify_password(_dummy_hash(), password)


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("not anyone's password")
