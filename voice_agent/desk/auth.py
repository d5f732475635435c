"""Sign-in mechanics, without I/O: session tokens, CSRF tokens, the Secure flag, and the
throttle on failed sign-ins.

The browser holds a random session token in an HttpOnly, SameSite=Strict cookie; the store
keeps only its SHA-256, so a copy of the database signs no one in. Each session has its own
CSRF token, sent back in every form (a hidden field) and every fetch() (a header).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SESSION_COOKIE = "desk_session"
LOGIN_COOKIE = "desk_login"
"""The sign-in form's own CSRF token (double submit: cookie and hidden field must match)."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison; a missing or empty token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def secure_cookie(setting: str, scheme: str, host: str) -> bool:
    """Whether cookies get the Secure flag: always, never, or (auto) unless the desk is
    reached over plain HTTP on a loopback address, where a browser would drop a Secure one."""
    if setting == "always":
        return True
    if setting == "never":
        return False
    return scheme == "https" or not _loopback(host)


def _loopback(host: str) -> bool:
    """Whether a Host header ("127.0.0.1:8080", "[::1]:8080", "localhost") is this machine."""
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:
        return False
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(slots=True)
class LoginThrottle:
    """Refuses sign-ins for a while after repeated failures, per user name and per address.

    In memory, per process: enough to make guessing slow; a restart forgets it."""

    max_failures: int = 5
    window_s: float = 300.0
    max_keys: int = 10_000
    """Names and addresses remembered at most (the oldest are forgotten first)."""
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def wait_s(self, keys: tuple[str, ...], now: float) -> float:
        """Seconds until a sign-in under these keys is tried again; 0: it may be tried now."""
        wait = 0.0
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self.max_failures:
                wait = max(wait, failures[0] + self.window_s - now)
        return wait

    def failed(self, keys: tuple[str, ...], now: float) -> None:
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        if key not in self._failures and len(self._failures) >= self.max_keys:
            del self._failures[next(iter(self._failures))]
        failures = self._failures.setdefault(key, deque(maxlen=self.max_failures))
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures


def throttle_keys(username: str, address: str | None) -> tuple[str, ...]:
    return (f"user:{username.strip().lower()}", f"address:{address or 'unknown'}")
